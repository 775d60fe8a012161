import { InferaClientError } from '../client/errors.js';
import { snapshotFromJson, type StatsSnapshot } from './server-stats.js';

/**
 * Where the server-side split comes from: the statistics extension of the server under load.
 * A server without it (HTTP 503 "the server does not support model statistics", or any other
 * failure) makes the split "n/a"; the reason is kept for the report.
 */
export interface StatsSource {
  /** Cumulative statistics now, or undefined when the server does not provide them. */
  snapshot(): Promise<StatsSnapshot | undefined>;
  /** Why there are no statistics (set after the first failed snapshot). */
  readonly unavailable?: string;
}

/** What the HTTP and gRPC clients both offer: the statistics extension's JSON. */
export interface StatisticsClient {
  modelStatistics(name?: string, version?: string | number): Promise<Record<string, unknown>>;
}

/**
 * A StatsSource over a client's ModelStatistics (HTTP `GET /v2/models/{m}[/versions/{v}]/stats`
 * or the gRPC ModelStatistics RPC).
 */
export function clientStatsSource(client: StatisticsClient, model: string, version?: string): StatsSource {
  let unavailable: string | undefined;
  return {
    get unavailable() {
      return unavailable;
    },
    async snapshot() {
      if (unavailable !== undefined) return undefined;
      try {
        return snapshotFromJson(await client.modelStatistics(model, version), model, version);
      } catch (err) {
        unavailable = err instanceof InferaClientError ? `${err.message} (status ${err.status})` : (err as Error).message;
        return undefined;
      }
    },
  };
}
