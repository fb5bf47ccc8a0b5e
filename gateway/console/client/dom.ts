/** DOM helpers: every name, message and output goes in as text, never as HTML. */

/** The element with this id (the page defines them all). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`console page lacks #${id}`);
  return e as T;
}

/** A new element with text or child nodes. */
export function el(tag: string, children: Array<Node | string> = [], className?: string): HTMLElement {
  const e = document.createElement(tag);
  if (className !== undefined) e.className = className;
  for (const c of children) e.append(typeof c === "string" ? document.createTextNode(c) : c);
  return e;
}

/** Shows a line in the header (errors of data calls). */
export function notice(text: string): void {
  byId("notice").textContent = text;
}
