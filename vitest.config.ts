import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    globalSetup: ["test/support/demo-variant-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
