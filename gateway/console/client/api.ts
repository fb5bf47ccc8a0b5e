/** Data calls: the same protocol routes any client uses, with the key from this tab's sessionStorage. */
import { byId, notice } from "./dom";

const KEY = "edge-infer-key";

/** One answered call. */
export interface Answer {
  status: number;
  body: unknown;
  text: string;
  serverTiming: string;
}

/** Calls `path` on this origin with the tab's key; never throws for an HTTP error status. */
export async function call(path: string, init: RequestInit = {}): Promise<Answer> {
  const headers = new Headers(init.headers);
  const key = sessionStorage.getItem(KEY);
  if (key !== null) headers.set("Authorization", `Bearer ${key}`);
  const res = await fetch(path, { ...init, headers });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: shown as text.
  }
  if (res.status === 401) askKey();
  return { status: res.status, body, text, serverTiming: res.headers.get("Server-Timing") ?? "" };
}

/** GET returning JSON, or undefined (and a notice) on an error status. */
export async function getJson<T>(path: string): Promise<T | undefined> {
  const a = await call(path);
  if (a.status >= 400) {
    const err = (a.body as { error?: string } | undefined)?.error;
    notice(`${path}: ${a.status}${err === undefined ? "" : ` ${err}`}`);
    return undefined;
  }
  return a.body as T;
}

/** Shows the key field (keys mode answered 401). */
export function askKey(): void {
  byId("key-form").hidden = false;
}

/** Wires the key form: the key is kept in this tab's sessionStorage only, then the page reloads its data. */
export function initKey(onKey: () => void): void {
  const form = byId<HTMLFormElement>("key-form");
  if (sessionStorage.getItem(KEY) !== null) form.hidden = false;
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const value = byId<HTMLInputElement>("key").value.trim();
    if (value === "") sessionStorage.removeItem(KEY);
    else sessionStorage.setItem(KEY, value);
    notice("");
    onKey();
  });
}
