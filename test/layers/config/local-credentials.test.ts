/** The placeholder key for AWS look-alikes on loopback, and when the SDK's own chain is left alone. */
import { describe, expect, it } from "vitest";
import { LOCAL_CREDENTIALS, localEndpointCredentials } from "../../../layers/config/local-credentials";

describe("localEndpointCredentials", () => {
  it("gives a loopback endpoint the placeholder key when the environment names none", () => {
    for (const endpoint of ["http://127.0.0.1:4569", "http://localhost:9000", "http://[::1]:4566"]) {
      expect(localEndpointCredentials(endpoint, {})).toEqual({ credentials: LOCAL_CREDENTIALS });
    }
  });

  it("leaves real endpoints, configured keys and profiles to the SDK's default chain", () => {
    expect(localEndpointCredentials(undefined, {})).toEqual({});
    expect(localEndpointCredentials("https://s3.eu-west-1.amazonaws.com", {})).toEqual({});
    expect(localEndpointCredentials("http://minio.internal:9000", {})).toEqual({});
    expect(localEndpointCredentials("http://127.0.0.1:4569", { AWS_ACCESS_KEY_ID: "AKIA" })).toEqual({});
    expect(localEndpointCredentials("http://127.0.0.1:4569", { AWS_PROFILE: "dev" })).toEqual({});
  });
});
