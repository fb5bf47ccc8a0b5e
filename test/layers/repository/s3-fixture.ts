/** Shared fixtures of the S3 repository tests: uploads and a request counter on an S3Client. */
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { checksumText } from "../../support/models";

/**
 * Uploads `files` (key → content) to `bucket`, each `model.onnx` with its `model.onnx.sha256`
 * unless `sums` is false (a version without one, or weights that no longer match theirs).
 */
export async function upload(
  client: S3Client,
  bucket: string,
  files: Record<string, string | Uint8Array>,
  { sums = true }: { sums?: boolean } = {},
) {
  for (const [Key, Body] of Object.entries(files)) {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));
    if (sums && Key.endsWith("/model.onnx")) {
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: `${Key}.sha256`, Body: checksumText(Body) }),
      );
    }
  }
}

/** Counts commands sent through `client`, by command name (e.g. "GetObjectCommand"). */
export function countCommands(client: S3Client): Map<string, number> {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => (args) => {
      const name = context.commandName ?? "?";
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: "initialize", name: "countCommands" },
  );
  return counts;
}

/** Makes every ListObjectsV2 page hold one entry, so that pagination is exercised. */
export function onePerPage(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === "ListObjectsV2Command") {
        (args.input as { MaxKeys?: number }).MaxKeys = 1;
      }
      return next(args);
    },
    { step: "initialize", name: "onePerPage" },
  );
}
