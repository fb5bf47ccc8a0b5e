/**
 * A lean HTTP/1.1 keep-alive client over one TCP socket, for the bench: requests are prebuilt
 * byte strings, responses are parsed just enough (status, headers, Content-Length or chunked body).
 * Kept minimal on purpose, as autocannon's is, so that the client costs little of what is measured.
 */
import { connect, type Socket } from "node:net";

/** A response as the bench needs it. */
export interface RawResponse {
  status: number;
  /** Header names lower-cased. */
  headers: Map<string, string>;
  body: Buffer;
}

const CRLF2 = Buffer.from("\r\n\r\n");

/** Bytes of a POST request with the given body and extra headers (keep-alive). */
export function postRequest(path: string, body: Uint8Array, headers: Record<string, string> = {}): Buffer {
  let head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\nContent-Length: ${body.byteLength}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  head += "\r\n";
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

/** One keep-alive connection; `send` must not be called again before the previous one settled. */
export class Connection {
  private buf: Buffer = Buffer.alloc(0);
  private waiting: { resolve(r: RawResponse): void; reject(e: Error): void } | undefined;
  private failure: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (e) => this.fail(e));
    socket.on("close", () => this.fail(new Error("connection closed by the server")));
  }

  /** Opens a connection to 127.0.0.1:`port`. */
  static open(port: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port });
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new Connection(socket));
      });
    });
  }

  /** Writes a prebuilt request and resolves with its response. */
  send(request: Buffer): Promise<RawResponse> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(request);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(e);
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const parsed = parseResponse(this.buf);
    if (parsed === undefined) return;
    this.buf = this.buf.subarray(parsed.used);
    const w = this.waiting;
    this.waiting = undefined;
    w?.resolve(parsed.response);
  }
}

/** A complete response at the start of `buf`, and the bytes it used; undefined while incomplete. */
export function parseResponse(buf: Buffer): { response: RawResponse; used: number } | undefined {
  const end = buf.indexOf(CRLF2);
  if (end < 0) return undefined;
  const lines = buf.toString("latin1", 0, end).split("\r\n");
  const status = Number((lines[0] ?? "").split(" ")[1]);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const start = end + 4;
  const length = headers.get("content-length");
  if (length !== undefined) {
    const n = Number(length);
    if (buf.length < start + n) return undefined;
    return { response: { status, headers, body: buf.subarray(start, start + n) }, used: start + n };
  }
  if (headers.get("transfer-encoding")?.toLowerCase() === "chunked")
    return parseChunked(buf, start, status, headers);
  return { response: { status, headers, body: Buffer.alloc(0) }, used: start };
}

function parseChunked(
  buf: Buffer,
  start: number,
  status: number,
  headers: Map<string, string>,
): { response: RawResponse; used: number } | undefined {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const eol = buf.indexOf("\r\n", at);
    if (eol < 0) return undefined;
    const size = Number.parseInt(buf.toString("latin1", at, eol), 16);
    if (!Number.isFinite(size)) throw new Error("bench client: malformed chunk size");
    const dataStart = eol + 2;
    if (buf.length < dataStart + size + 2) return undefined;
    if (size === 0) {
      // No trailers expected from our servers: the last chunk is "0\r\n\r\n".
      return { response: { status, headers, body: Buffer.concat(parts) }, used: dataStart + 2 };
    }
    parts.push(buf.subarray(dataStart, dataStart + size));
    at = dataStart + size + 2;
  }
}
