/**
 * Manage API keys: `tsx gateway/auth/keys-cli.ts add <name> --models a,b --rps 10 --burst 20 | list | revoke <name>`.
 * Reads API_KEYS_TABLE and DYNAMODB_ENDPOINT.
 */
import { runKeysCli, USAGE } from "./cli";
import { createKeyTable, DynamoKeyStore, keyStoreClient } from "./dynamo-store";

const table = process.env.API_KEYS_TABLE?.trim();
if (table === undefined || table === "") {
  process.stderr.write(`API_KEYS_TABLE is not set: name the DynamoDB table of API keys\n${USAGE}\n`);
  process.exit(2);
}
const client = keyStoreClient(process.env.DYNAMODB_ENDPOINT, process.env.AWS_REGION);
try {
  process.exitCode = await runKeysCli(process.argv.slice(2), {
    store: new DynamoKeyStore(client, table),
    init: () => createKeyTable(client, table),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  });
} finally {
  client.destroy();
}
