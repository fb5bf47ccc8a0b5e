import { Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Logger } from "../../../layers/telemetry/logger";
import { fromPowertools } from "../../../layers/telemetry/powertools";

afterEach(() => vi.restoreAllMocks());

describe("fromPowertools", () => {
  it("logs through a real Powertools Logger with child fields as persistent keys", () => {
    const lines: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const log: Logger = fromPowertools(new PowertoolsLogger({ serviceName: "gateway", logLevel: "DEBUG" }));
    const child = log.child({ request_id: "r1", model: "ocr-det" });
    child.info("request done", { status: 200 });
    log.debug("parent only");
    const parsed = lines
      .join("")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed).toHaveLength(2);
    expect(parsed[0]).toMatchObject({
      level: "INFO",
      message: "request done",
      service: "gateway",
      request_id: "r1",
      model: "ocr-det",
      status: 200,
    });
    expect(parsed[1]).toMatchObject({ level: "DEBUG", message: "parent only" });
    expect(parsed[1]).not.toHaveProperty("request_id");
  });
});
