/**
 * Small local implementations of the AWS APIs the gateway's remote backends call, in front of real
 * handlers: Lambda's Invoke (over bundled handlers in child processes) and SageMaker runtime's
 * InvokeEndpoint (over model containers), so the AWS SDK clients run unmodified against them.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { type BundledLambda, closeServer, type Listening } from "./server";

/** The unmodified AWS SDK Lambda client, pointed at a local API (test credentials, no retries). */
export function localLambdaClient(api: Pick<AwsApi, "url">): LambdaClient {
  return new LambdaClient({
    endpoint: api.url,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  });
}

/** A local AWS API and the calls it received. */
export interface AwsApi extends Listening {
  /** Targets called, as addressed: function name or ARN (Lambda), endpoint name (SageMaker). */
  readonly calls: string[];
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/** One function with its published versions and aliases, as Lambda holds them. */
export interface LambdaVersions {
  functionName: string;
  /** Version number → the handler that version runs. */
  versions: Record<string, BundledLambda>;
  /** Alias → version number. */
  aliases: Record<string, string>;
}

/** A plain bundled handler is version 1 of its function, alias `live` pointing at it. */
function asVersions(f: BundledLambda | LambdaVersions): LambdaVersions {
  return "versions" in f ? f : { functionName: f.functionName, versions: { "1": f }, aliases: { live: "1" } };
}

/**
 * Lambda's `POST /2015-03-31/functions/{name}/invocations` (RequestResponse) over `functions`,
 * addressed by name or ARN with a qualifier (`:<alias|version>` suffix or `?Qualifier=`; none or
 * `$LATEST`: the highest version): the version that ran comes back in `X-Amz-Executed-Version`;
 * handler errors as `X-Amz-Function-Error: Unhandled`; unknown functions or qualifiers as
 * ResourceNotFoundException.
 * Platform faults, by function name: `hang` accepts the call and never answers, `timeout` answers
 * as Lambda does when a function runs past its timeout, `throttle` as when concurrency is exhausted,
 * `garbage` answers 200 with a payload that is not JSON (a broken proxy or runtime), `oversize` as
 * Lambda does when a function returns more than 6 MB. `X-Amz-Invocation-Type: Event` (asynchronous)
 * is answered 202 at once and run in the background; `asyncSettled()` waits for those runs.
 */
export function startLambdaApi(
  functions: Array<BundledLambda | LambdaVersions>,
  options: {
    hang?: string[];
    timeout?: string[];
    throttle?: string[];
    garbage?: string[];
    oversize?: string[];
  } = {},
): Promise<AwsApi & { asyncSettled(): Promise<void> }> {
  const calls: string[] = [];
  const queued = new Set<Promise<void>>();
  // Looked up per call: a test may add functions (e.g. new versions) after the API started.
  const byName = {
    get: (name: string) => {
      const f = functions.find((x) => x.functionName === name);
      return f === undefined ? undefined : asVersions(f);
    },
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const target = decodeURIComponent(INVOKE_PATH.exec(req.url?.split("?")[0] ?? "")?.[1] ?? "");
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method !== "POST" || target === "")
      return json(res, 404, { message: "unknown route" }, "UnknownOperationException");
    const queried = new URL(req.url ?? "/", "http://x").searchParams.get("Qualifier");
    // Recorded as addressed; a qualifier given as a query parameter is shown as `name:qualifier`.
    calls.push(queried === null ? target : `${target}:${queried}`);
    const name = functionNameOf(target);
    if (options.hang?.includes(name)) return; // the socket stays open until the client gives up
    if (options.timeout?.includes(name)) {
      res.setHeader("X-Amz-Function-Error", "Unhandled");
      const id = "8f5e3b1a-0000-4000-8000-000000000000";
      return json(res, 200, {
        errorType: "Sandbox.Timedout",
        errorMessage: `RequestId: ${id} Error: Task timed out after 3.00 seconds`,
      });
    }
    if (options.garbage?.includes(name)) {
      res.statusCode = 200;
      res.setHeader("Content-Type", "application/json");
      res.setHeader("X-Amz-Executed-Version", "1");
      return void res.end("<html><body>502 Bad Gateway</body></html>\u0000\xff");
    }
    if (options.oversize?.includes(name)) {
      res.setHeader("X-Amz-Function-Error", "Unhandled");
      return json(res, 200, {
        errorType: "Function.ResponseSizeTooLarge",
        errorMessage: "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
      });
    }
    if (options.throttle?.includes(name)) {
      res.setHeader("Retry-After", "1");
      return json(
        res,
        429,
        {
          Type: "User",
          message: "Rate Exceeded.",
          Reason: "ReservedFunctionConcurrentInvocationLimitExceeded",
        },
        "TooManyRequestsException",
      );
    }
    const qualifier =
      qualifierOf(target) ?? new URL(req.url ?? "/", "http://x").searchParams.get("Qualifier");
    const versions = byName.get(name);
    const executed = versions === undefined ? undefined : resolveQualifier(versions, qualifier);
    const fn = executed === undefined ? undefined : versions?.versions[executed];
    if (fn === undefined) {
      return json(
        res,
        404,
        { Type: "User", Message: `Function not found: ${target}` },
        "ResourceNotFoundException",
      );
    }
    let event: unknown;
    try {
      event = JSON.parse(Buffer.concat(chunks).toString("utf8") || "null");
    } catch {
      return json(
        res,
        400,
        { Type: "User", message: "Could not parse request body into json" },
        "InvalidRequestContentException",
      );
    }
    if (req.headers["x-amz-invocation-type"] === "Event") {
      // Asynchronous: Lambda queues the event and answers 202 at once; the function runs later.
      const run = fn.invoke(event).then(() => undefined);
      queued.add(run);
      void run.finally(() => queued.delete(run));
      res.statusCode = 202;
      return void res.end();
    }
    const result = await fn.invoke(event);
    res.setHeader("X-Amz-Executed-Version", String(executed));
    if (result.ok) return json(res, 200, result.payload);
    res.setHeader("X-Amz-Function-Error", "Unhandled");
    return json(res, 200, result.error);
  };
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      handle(req, res).catch((e: unknown) => json(res, 500, { message: String(e) }, "ServiceException"));
    });
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        server,
        calls,
        close: () => closeServer(server),
        async asyncSettled() {
          while (queued.size > 0) await Promise.allSettled([...queued]);
        },
      });
    });
  });
}

/** The version a qualifier names: a version number, an alias, or (none, `$LATEST`) the highest. */
function resolveQualifier(fn: LambdaVersions, qualifier: string | null | undefined): string | undefined {
  if (qualifier === null || qualifier === undefined || qualifier === "" || qualifier === "$LATEST")
    return Object.keys(fn.versions).sort((a, b) => Number(b) - Number(a))[0];
  if (/^[0-9]+$/.test(qualifier)) return qualifier in fn.versions ? qualifier : undefined;
  return fn.aliases[qualifier];
}

/** The `:qualifier` of `name:qualifier` or of a function ARN with one. */
function qualifierOf(target: string): string | undefined {
  const parts = target.split(":");
  return parts[0] === "arn" ? parts[7] : parts[1];
}

/** `name`, `name:qualifier`, `arn:aws:lambda:region:account:function:name[:qualifier]` → name. */
function functionNameOf(target: string): string {
  const parts = target.split(":");
  if (parts[0] === "arn") return parts[6] ?? "";
  return parts[0] ?? "";
}

function json(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json");
  if (errorType !== undefined) res.setHeader("x-amzn-ErrorType", errorType);
  res.end(JSON.stringify(body));
}

const SAGEMAKER_PATH = /^\/endpoints\/([^/]+)\/invocations$/;

/**
 * SageMaker runtime's `POST /endpoints/{name}/invocations` in front of model containers
 * (`endpoints`: endpoint name → container base URL): the body goes to the container's
 * `/invocations`; a non-2xx answer becomes a ModelError (424) carrying it as OriginalMessage,
 * as SageMaker does; an unknown endpoint is a ValidationError.
 */
export function startSageMakerApi(endpoints: Record<string, string>): Promise<AwsApi> {
  const calls: string[] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const name = decodeURIComponent(SAGEMAKER_PATH.exec(req.url?.split("?")[0] ?? "")?.[1] ?? "");
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    calls.push(name);
    const container = endpoints[name];
    if (req.method !== "POST" || container === undefined) {
      return json(
        res,
        400,
        { message: `Endpoint ${name} of account 123456789012 not found.` },
        "ValidationError",
      );
    }
    const answer = await fetch(`${container}/invocations`, {
      method: "POST",
      headers: { "content-type": req.headers["content-type"] ?? "application/octet-stream" },
      body: Buffer.concat(chunks),
    });
    const text = await answer.text();
    if (answer.ok) {
      res.statusCode = 200;
      res.setHeader("Content-Type", answer.headers.get("content-type") ?? "application/json");
      res.setHeader("x-Amzn-Invoked-Production-Variant", "AllTraffic");
      return void res.end(text);
    }
    return json(
      res,
      424,
      {
        ErrorCode: `CLIENT_ERROR_FROM_MODEL`,
        LogStreamArn: `arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/${name}`,
        Message: `Received client error (${answer.status}) from primary with message "${text}".`,
        OriginalMessage: text,
        OriginalStatusCode: answer.status,
      },
      "ModelError",
    );
  };
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      handle(req, res).catch((e: unknown) => json(res, 500, { message: String(e) }, "InternalFailure"));
    });
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, server, calls, close: () => closeServer(server) });
    });
  });
}

/** A status a hook reported with PutLifecycleEventHookExecutionStatus. */
export interface LifecycleStatus {
  deploymentId: string;
  lifecycleEventHookExecutionId: string;
  status: string;
}

/** A local CodeDeploy API and the lifecycle hook statuses it received. */
export interface CodeDeployApi extends Listening {
  readonly statuses: LifecycleStatus[];
}

/**
 * CodeDeploy's JSON 1.1 API, `PutLifecycleEventHookExecutionStatus` only (what a Lambda hook
 * calls): records each status and answers as CodeDeploy does; any other operation is unknown.
 */
export function startCodeDeployApi(): Promise<CodeDeployApi> {
  const statuses: LifecycleStatus[] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const op = String(req.headers["x-amz-target"] ?? "");
    if (req.method !== "POST" || op !== "CodeDeploy_20141006.PutLifecycleEventHookExecutionStatus")
      return json(res, 400, { message: `unknown operation ${op}` }, "UnknownOperationException");
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Partial<LifecycleStatus>;
    if (!["Succeeded", "Failed"].includes(String(body.status)) || !body.deploymentId)
      return json(
        res,
        400,
        { message: "invalid status or deployment id" },
        "InvalidLifecycleEventHookExecutionStatusException",
      );
    statuses.push(body as LifecycleStatus);
    res.setHeader("Content-Type", "application/x-amz-json-1.1");
    return json(res, 200, { lifecycleEventHookExecutionId: body.lifecycleEventHookExecutionId });
  };
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      handle(req, res).catch((e: unknown) => json(res, 500, { message: String(e) }, "InternalFailure"));
    });
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, server, statuses, close: () => closeServer(server) });
    });
  });
}
