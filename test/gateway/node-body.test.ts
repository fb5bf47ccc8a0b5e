/** The node adapter's body reader: whole bodies, binary tensor data placed on an 8-byte boundary. */
import { once } from "node:events";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { joined, readIncoming } from "../../gateway/node-body";
import { releaseBody } from "../../layers/http/body-pool";

const bytes = (n: number, seed: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 255));

describe("joined", () => {
  it.each([0, 1, 5, 152, 153, 1001])("puts body byte %i on an 8-byte boundary, every byte kept", (start) => {
    const chunks = [bytes(3000, 1), bytes(17, 2), bytes(4096, 3)];
    const out = joined(chunks, 3000 + 17 + 4096, start);
    expect((out.byteOffset + start) % 8).toBe(0);
    expect(Buffer.from(out)).toEqual(Buffer.concat(chunks));
  });

  it("returns a lone chunk as it is, and joins at offset 0 without a binary start", () => {
    const one = bytes(100, 4);
    expect(joined([one], 100, 3)).toBe(one);
    const out = joined([bytes(10, 5), bytes(10, 6)], 20, undefined);
    expect(out.byteOffset % 8).toBe(0);
    expect(out.byteLength).toBe(20);
  });

  it.each([undefined, 7117])("joins an all-JSON body (start %s) into a reused buffer", (start) => {
    const chunks = [bytes(3000, 1), bytes(17, 2), bytes(4100, 3)];
    const out = joined(chunks, 7117, start);
    expect(Buffer.isBuffer(out)).toBe(false);
    expect(Buffer.from(out)).toEqual(Buffer.concat(chunks));
    releaseBody(out);
    expect(joined(chunks, 7117, start).buffer).toBe(out.buffer);
  });
});

describe("readIncoming over a real socket", () => {
  it("aligns the binary part named by Inference-Header-Content-Length", async () => {
    const seen: Uint8Array[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      readIncoming(req, 1 << 20).then((body) => {
        seen.push(body);
        res.end("ok");
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    try {
      // 300 KB arrives in several chunks; a JSON header of 13 bytes leaves the data misaligned by 5.
      const body = bytes(300_000, 9);
      const res = await fetch(`http://127.0.0.1:${port}/`, {
        method: "POST",
        body,
        headers: { "Inference-Header-Content-Length": "13" },
      });
      expect(await res.text()).toBe("ok");
      const got = seen[0];
      expect(got && (got.byteOffset + 13) % 8).toBe(0);
      expect(got && Buffer.from(got)).toEqual(body);
    } finally {
      server.close();
    }
  });
});
