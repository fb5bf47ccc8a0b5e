import { describe, expect, it } from "vitest";
import { authMode, isLoopbackHost } from "../../../gateway/auth/mode";

describe("authMode", () => {
  it("is keys mode when API_KEYS_TABLE is set, wherever it runs", () => {
    expect(authMode({ API_KEYS_TABLE: "keys", HOST: "0.0.0.0" })).toEqual({
      mode: "keys",
      table: "keys",
      endpoint: undefined,
      message: 'auth: API keys required (DynamoDB table "keys")',
    });
    const local = authMode({ API_KEYS_TABLE: "keys", DYNAMODB_ENDPOINT: "http://127.0.0.1:8000" });
    expect(local.mode === "keys" && local.endpoint).toBe("http://127.0.0.1:8000");
  });

  it("is open on loopback without a table, with a warning line", () => {
    for (const HOST of [undefined, "127.0.0.1", "localhost", "::1", "[::1]", "127.1.2.3"]) {
      const m = authMode({ HOST });
      expect(m.mode, String(HOST)).toBe("open");
      if (m.mode === "open")
        expect(m.warning).toMatch(/^auth: OPEN mode, no API key required: API_KEYS_TABLE is unset/);
    }
  });

  it("refuses to run open where others can connect", () => {
    expect(() => authMode({ HOST: "0.0.0.0" })).toThrow(
      "API_KEYS_TABLE is unset but the gateway is reachable from outside (HOST=0.0.0.0)",
    );
    expect(() => authMode({ HOST: "127.0.0.1", AWS_LAMBDA_FUNCTION_NAME: "gw" })).toThrow("(on Lambda)");
    expect(() => authMode({ API_KEYS_TABLE: " ", HOST: "10.0.0.1" })).toThrow("HOST=10.0.0.1");
  });

  it("knows loopback addresses", () => {
    expect(isLoopbackHost("::ffff:127.0.0.1")).toBe(true);
    for (const h of ["0.0.0.0", "::", "192.168.1.1", "127.example.com", "localhost.evil.com"]) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
  });
});
