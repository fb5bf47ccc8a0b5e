/** Reading Prometheus text as the gateway and the model container serve it at GET /metrics. */
import { expect } from "vitest";

/** A series' value by its full name with labels (`name{a="b"}`); undefined when absent. */
export type SeriesValue = (series: string) => number | undefined;

/** Checks that `res` is a Prometheus text answer and returns its series' values. */
export async function prometheusValues(res: Response): Promise<SeriesValue> {
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  const lines = (await res.text()).split("\n");
  return (series) => {
    const line = lines.find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };
}
