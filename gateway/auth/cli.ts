/**
 * The logic of the keys command (add, list, revoke, init), apart from process and env so tests
 * run it against a real store.
 */
import { parseArgs } from "node:util";
import { type KeyRecord, newKeyRecord } from "./keys";
import type { KeyStore } from "./store";

/** What the command needs from outside. */
export interface KeysCliDeps {
  store: KeyStore;
  /** Creates the table (local DynamoDB); absent when the store has no table. */
  init?: () => Promise<void>;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Usage text. */
export const USAGE = `usage: tsx gateway/auth/keys-cli.ts <command>
  add <name> --models <m1,m2|*> [--rps 10] [--burst 20] [--admin]
                                                           create a key (printed once); --admin: it may
                                                           also load and unload models (/v2/repository)
  list [--json]                                            list keys (never the keys themselves)
  revoke <name|prefix>                                     revoke the active keys with that name or prefix
  init                                                     create the table (local DynamoDB)
env: API_KEYS_TABLE (required), DYNAMODB_ENDPOINT (local DynamoDB), AWS_REGION`;

function parseModels(value: string | undefined): string[] | "*" {
  if (value === undefined) throw new RangeError("add needs --models <m1,m2> or --models '*'");
  if (value.trim() === "*") return "*";
  const models = value
    .split(",")
    .map((m) => m.trim())
    .filter((m) => m !== "");
  if (models.length === 0) throw new RangeError(`--models lists no model: "${value}"`);
  return models;
}

function parseNumber(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n))
    throw new RangeError(`${flag} must be a number, got "${value}"`);
  return n;
}

function describe(r: KeyRecord): string {
  const models = r.models === "*" ? "*" : r.models.join(",");
  const status = `${r.revoked ? "revoked" : "active"}${r.admin === true ? ", admin" : ""}`;
  return `${r.name}\t${r.prefix}…\t${models}\t${r.rateLimit.rps}/s burst ${r.rateLimit.burst}\t${r.createdAt}\t${status}`;
}

/** Runs one command; returns the process exit code. */
export async function runKeysCli(argv: string[], deps: KeysCliDeps): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    deps.err(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const [command, arg] = parsed.positionals;
  try {
    switch (command) {
      case "add": {
        if (arg === undefined) throw new RangeError("add needs a name");
        const existing = (await deps.store.list()).find((r) => r.name === arg.trim() && !r.revoked);
        if (existing !== undefined)
          throw new RangeError(`an active key named "${arg}" exists; revoke it first`);
        const rps = parseNumber("--rps", parsed.values.rps, 10);
        const burst = parseNumber("--burst", parsed.values.burst, Math.max(1, Math.ceil(rps * 2)));
        const { key, record } = newKeyRecord({
          name: arg,
          models: parseModels(parsed.values.models),
          rateLimit: { rps, burst },
          admin: parsed.values.admin === true,
        });
        await deps.store.put(record);
        deps.out(key);
        deps.err(`created key "${record.name}" (${record.prefix}…): store it now, it is not shown again`);
        return 0;
      }
      case "list": {
        const records = (await deps.store.list()).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
        if (parsed.values.json === true) deps.out(JSON.stringify(records, null, 2));
        else for (const r of records) deps.out(describe(r));
        return 0;
      }
      case "revoke": {
        if (arg === undefined) throw new RangeError("revoke needs a key name or prefix");
        const revoked = await deps.store.revoke(arg);
        if (revoked.length === 0) {
          deps.err(`no active key named or prefixed "${arg}"`);
          return 1;
        }
        for (const r of revoked) deps.out(`revoked ${r.name} (${r.prefix}…)`);
        return 0;
      }
      case "init": {
        if (deps.init === undefined) throw new RangeError("init needs a DynamoDB table (API_KEYS_TABLE)");
        await deps.init();
        deps.out("table ready");
        return 0;
      }
      default:
        deps.err(command === undefined ? USAGE : `unknown command "${command}"\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    deps.err(e instanceof Error ? e.message : String(e));
    return 1;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      models: { type: "string" },
      rps: { type: "string" },
      burst: { type: "string" },
      json: { type: "boolean" },
      admin: { type: "boolean" },
    },
  });
}
