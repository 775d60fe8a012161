/**
 * What gRPC ModelStreamInfer tests read from a stream: each response as a small value (or
 * "error: <message>" for an in-band error), grouped by request id in arrival order.
 */
import type { InferResult, StreamItem } from '../../../src/client/index.js';

/** The stream's items, `value` of each response or "error: <message>", grouped by request id. */
export async function groupById(items: AsyncIterable<StreamItem> | Iterable<StreamItem>, value: (r: InferResult) => unknown): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for await (const item of items) (out[item.id] ??= []).push(item.result === undefined ? `error: ${item.error!.message}` : value(item.result));
  return out;
}

/** [the INT32 output `name`'s first value, or null for an empty response, triton_final_response]. */
export const firstValueAndFinal =
  (name: string) =>
  (r: InferResult): unknown[] => [r.outputs.length > 0 ? (r.output(name)!.data as Int32Array)[0] : null, r.parameters?.triton_final_response];
