/**
 * Timestamps of one request as the load worker records it, ns after the run's epoch (the
 * main thread's `process.hrtime.bigint()` at start-up; the clock is shared by all threads).
 */
export interface RequestTiming {
  /** Just before the request was handed to the transport. */
  start: number;
  /** The request was fully written to the connection. */
  sent: number;
  /** The first byte (HTTP) or the response message (gRPC) arrived. */
  firstByte: number;
  /** The response was complete. */
  end: number;
}

/** A clock reading ns after `epoch`, as a double (exact to well under a microsecond). */
export function clockSince(epoch: bigint): () => number {
  return () => Number(process.hrtime.bigint() - epoch);
}
