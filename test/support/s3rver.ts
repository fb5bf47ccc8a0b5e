/**
 * Test helper: s3rver on loopback (free port, temp data dir) and an S3Client configured for it,
 * so S3 code is tested against a real HTTP S3 implementation.
 *
 * s3rver runs in a child Node process started with `--openssl-legacy-provider`: its ListObjectsV2
 * continuation tokens are DES-encrypted, which OpenSSL 3 refuses by default, so pagination would
 * otherwise answer 500. The child exits when its stdin closes, i.e. also when the test process dies.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";

/** Credentials s3rver verifies signatures against. */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

/** A running s3rver. */
export interface S3rverHandle {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** An S3Client pointed at `endpoint` (path style, s3rver's credentials). */
  client: S3Client;
  /** Another client for this server (e.g. to add middleware); destroyed by close(). */
  makeClient(extra?: Partial<S3ClientConfig>): S3Client;
  /** Stops the server, destroys the clients and deletes the data directory. */
  close(): Promise<void>;
}

/** Client settings for s3rver: path style, fixed credentials, no aws-chunked checksum trailers. */
export function s3rverClientConfig(endpoint: string): S3ClientConfig {
  return {
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  };
}

// Runs in the child: start s3rver on port 0, report the port, stop when stdin closes. Besides its
// own key it accepts the placeholder key local/local, as LocalStack and moto accept any key: what a
// process sends to a local endpoint when it has no AWS credentials (layers/config/local-credentials.ts).
const CHILD = `
const S3rver = require(process.argv[1]);
const { join, dirname } = require("node:path");
require(join(dirname(process.argv[1]), "models", "account.js")).DUMMY_ACCOUNT.createKeyPair("local", "local");
const server = new S3rver({ address: "127.0.0.1", port: 0, directory: process.argv[2], silent: true });
server.run().then((address) => {
  process.stdout.write(JSON.stringify({ port: address.port }) + "\\n");
  process.stdin.on("end", () => process.exit(0));
  process.stdin.resume();
}, (error) => { console.error(error); process.exit(1); });
`;

/** Starts s3rver on 127.0.0.1:<free port> in a fresh temp dir and creates `buckets`. */
export async function startS3rver(buckets: string[] = []): Promise<S3rverHandle> {
  const directory = await mkdtemp(join(tmpdir(), "s3rver-"));
  const entry = createRequire(import.meta.url).resolve("s3rver");
  const child = spawn(process.execPath, ["--openssl-legacy-provider", "-e", CHILD, entry, directory], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  let port: number;
  try {
    port = await readPort(child);
  } catch (error) {
    child.kill();
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: S3Client[] = [];
  const makeClient = (extra: Partial<S3ClientConfig> = {}): S3Client => {
    const c = new S3Client({ ...s3rverClientConfig(endpoint), ...extra });
    clients.push(c);
    return c;
  };
  const client = makeClient();
  for (const Bucket of buckets) await client.send(new CreateBucketCommand({ Bucket }));
  return {
    endpoint,
    client,
    makeClient,
    async close() {
      for (const c of clients) c.destroy();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, "exit");
        child.stdin?.end();
        await exited;
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** The port the child reports on its first stdout line. */
async function readPort(child: ChildProcess): Promise<number> {
  const stdout = child.stdout;
  if (!stdout) throw new Error("s3rver child has no stdout");
  let buffered = "";
  const line = await new Promise<string>((resolve, reject) => {
    stdout.setEncoding("utf8");
    stdout.on("data", (chunk: string) => {
      buffered += chunk;
      const end = buffered.indexOf("\n");
      if (end >= 0) resolve(buffered.slice(0, end));
    });
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`s3rver exited with code ${code} before listening`)));
  });
  const parsed = JSON.parse(line) as { port?: unknown };
  if (typeof parsed.port !== "number") throw new Error(`s3rver reported no port: ${line}`);
  return parsed.port;
}
