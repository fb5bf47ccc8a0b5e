import { describe, expect, it } from "vitest";
import { createLogger, parseLogLevel, silentLogger } from "../../../layers/telemetry/logger";

function capture(level?: "debug" | "info" | "warn" | "error") {
  const lines: string[] = [];
  const log = createLogger({
    level,
    service: "gateway",
    sink: (l) => lines.push(l),
    now: () => new Date("2025-01-01T00:00:00Z"),
  });
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe("createLogger", () => {
  it("writes one JSON object per line with the request's fields", () => {
    const { log, lines, parsed } = capture();
    log.child({ request_id: "r1", model: "ocr-det" }).info("request done", {
      version: "1",
      status: 200,
      timings: { queue: 0.1, infer: 3.2 },
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain("\n");
    expect(parsed()[0]).toEqual({
      request_id: "r1",
      model: "ocr-det",
      version: "1",
      status: 200,
      timings: { queue: 0.1, infer: 3.2 },
      level: "info",
      timestamp: "2025-01-01T00:00:00.000Z",
      service: "gateway",
      message: "request done",
    });
  });

  it("drops lines below the level", () => {
    const { log, parsed } = capture("warn");
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    expect(parsed().map((l) => l.level)).toEqual(["warn", "error"]);
  });

  it("nests children and lets fields not forge reserved keys", () => {
    const { log, parsed } = capture("debug");
    log.child({ a: 1 }).child({ b: 2, a: 3 }).debug("x", { level: "error", message: "forged" });
    expect(parsed()[0]).toMatchObject({ a: 3, b: 2, level: "debug", message: "x" });
  });

  it("serialises errors, bigints and survives circular fields", () => {
    const { log, parsed } = capture();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    log.error("failed", { err: new TypeError("bad", { cause: "root" }), n: 10n });
    log.error("loop", { circular });
    const [first, second] = parsed();
    expect(first?.n).toBe("10");
    expect(first?.err).toMatchObject({ name: "TypeError", message: "bad", cause: "root" });
    expect(String((first?.err as { stack?: string } | undefined)?.stack)).toContain("TypeError: bad");
    expect(second).toMatchObject({
      message: "loop",
      log_error: "fields could not be serialised",
      level: "error",
    });
  });

  it("parses LOG_LEVEL and names a bad value", () => {
    expect(parseLogLevel(undefined)).toBe("info");
    expect(parseLogLevel(" DEBUG ")).toBe("debug");
    expect(() => parseLogLevel("verbose")).toThrow(
      'LOG_LEVEL must be one of debug, info, warn, error; got "verbose"',
    );
  });

  it("has a silent logger", () => {
    expect(() => silentLogger.child({ a: 1 }).error("nothing")).not.toThrow();
  });

  it("says which levels it writes, so callers can skip building dropped lines", () => {
    const { log, lines } = capture("warn");
    expect(log.enabled?.("info")).toBe(false);
    expect(log.enabled?.("debug")).toBe(false);
    expect(log.enabled?.("warn")).toBe(true);
    expect(log.child({ a: 1 }).enabled?.("error")).toBe(true);
    log.info("dropped");
    log.warn("kept");
    expect(lines).toHaveLength(1);
    expect(capture().log.enabled?.("info")).toBe(true);
    expect(silentLogger.enabled?.("error")).toBe(false);
  });
});
