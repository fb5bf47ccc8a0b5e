/** Quotes a client-supplied name for a message, bounded so it cannot bloat the response. */
export function quote(name: string): string {
  return JSON.stringify(name.length > 100 ? `${name.slice(0, 100)}…` : name);
}
