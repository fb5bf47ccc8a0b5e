/**
 * The shape of `GET /console/api/live`, shared by the gateway (live.ts, routes.ts) and the browser
 * script (client/charts.ts). It imports nothing, so the client bundle takes it as it is.
 */

/** One point of a model's series. */
export interface LivePoint {
  /** Window start, seconds since the epoch. */
  t: number;
  rps: number;
  p50: number | null;
  p99: number | null;
  errors: number;
  /** Hits / (hits + misses); null when the cache saw nothing. */
  hitRatio: number | null;
}

/** The live route's answer. */
export interface LiveAnswer {
  /** "instance" on Lambda (each instance counts alone), "process" locally. */
  scope: "instance" | "process";
  /** Where the fleet-wide figures are (CloudWatch), on AWS. */
  dashboardUrl?: string;
  windowSeconds: number;
  models: Record<string, LivePoint[]>;
}
