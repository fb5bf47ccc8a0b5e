import { describe, expect, it } from "vitest";
import { ConfigError, envText, integer, logLevel, oneOf, onOff, url } from "../../../layers/config/env";

describe("env readers", () => {
  it("treats blank values as unset and trims the rest", () => {
    const text = envText({ A: "  x ", B: "   ", C: undefined });
    expect([text("A"), text("B"), text("C"), text("D")]).toEqual(["x", undefined, undefined, undefined]);
  });

  it("reads integers in range, else names the variable", () => {
    expect(integer("N", undefined, 7, 1, 9)).toBe(7);
    expect(integer("N", undefined, undefined, 1, 9)).toBeUndefined();
    expect(integer("N", "9", 7, 1, 9)).toBe(9);
    for (const bad of ["10", "0", "1.5", "-1", "x"]) {
      expect(() => integer("N", bad, 7, 1, 9)).toThrow(
        new ConfigError("N", `expected an integer from 1 to 9, got ${JSON.stringify(bad)}`),
      );
    }
  });

  it("reads enumerations, switches, URLs and log levels", () => {
    expect(oneOf("T", "Worker", ["main", "worker"], "main")).toBe("worker");
    expect(() => oneOf("T", "gpu", ["main", "worker"], "main")).toThrow(
      'T: expected one of main, worker, got "gpu"',
    );
    expect([onOff("B", "ON", false), onOff("B", "0", true), onOff("B", undefined, true)]).toEqual([
      true,
      false,
      true,
    ]);
    expect(() => onOff("B", "maybe", true)).toThrow('B: expected on or off, got "maybe"');
    expect(url("U", "http://127.0.0.1:4567")).toBe("http://127.0.0.1:4567");
    expect(() => url("U", "ftp://x")).toThrow('U: expected an http(s) URL, got "ftp://x"');
    expect([logLevel(undefined), logLevel("debug")]).toEqual(["INFO", "DEBUG"]);
    expect(() => logLevel("trace")).toThrow(
      'LOG_LEVEL: expected one of DEBUG, INFO, WARN, ERROR, SILENT, got "trace"',
    );
  });
});
