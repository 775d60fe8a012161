import type { InputPlan } from '../prepared-tensor.js';
import type { RequestDistribution } from '../rate-schedule.js';

/**
 * The messages between `infera perf`'s main thread and its load worker threads. Each worker
 * owns its connections and its share of the load; the main thread only sets the load and
 * collects completed-request records at window boundaries.
 */

/** How to reach the server and what to ask for; the same for every worker. */
export type TransportSetup =
  | {
      kind: 'http';
      /** Base URL, e.g. `http://localhost:8000`. */
      url: string;
      model: string;
      version?: string;
      /** `-H` headers sent with every request. */
      headers: Record<string, string>;
      /** `--input-tensor-format`: binary tensor data extension (default) or JSON `data`. */
      inputFormat: 'binary' | 'json';
      /** `--output-tensor-format`. */
      outputFormat: 'binary' | 'json';
      /** System shared memory: inputs and outputs by region instead of in the body. */
      sharedMemory?: SharedMemoryLayout;
    }
  | {
      kind: 'grpc';
      /** host:port */
      url: string;
      model: string;
      version?: string;
      /** `--streaming`: one bidirectional ModelStreamInfer stream per connection. */
      streaming: boolean;
      sharedMemory?: SharedMemoryLayout;
    };

/**
 * Regions registered by the main thread before the workers start: the inputs of every step in
 * one read-only region, and one output region per concurrent request slot (so responses of
 * requests in flight never overwrite each other).
 */
export interface SharedMemoryLayout {
  /** Per stream, per step, per input: region name, offset and byte size. */
  inputs: { region: string; offset: number; byteSize: number }[][][];
  /** Output regions: slot index → region name; every output at `outputOffsets[i]` of `outputByteSize`. */
  outputRegions: string[];
  outputs: { name: string; offset: number; byteSize: number }[];
}

/** How a worker drives a sequence model (perf_analyzer's sequence options). */
export interface SequenceSetup {
  /** `--sequence-length`: base number of requests per sequence. */
  length: number;
  /** `--sequence-length-variation`, percent. */
  variation: number;
  /** First sequence id (`--sequence-id-range` start). */
  idStart: number;
  /** Concurrent sequences per worker in request-rate mode (`--num-of-sequences`). */
  sequencesPerWorker: number;
}

/** `workerData` of a load worker. */
export interface WorkerSetup {
  index: number;
  count: number;
  transport: TransportSetup;
  plan: InputPlan;
  sequence?: SequenceSetup;
  /** process.hrtime.bigint() of the main thread's epoch, as a decimal string: all records are ns after it. */
  epochNs: string;
}

/** Main → worker. */
export type ToWorker =
  | { type: 'concurrency'; value: number }
  | { type: 'rate'; value: number; distribution: RequestDistribution; seed: number }
  | { type: 'collect'; id: number }
  | { type: 'stop' };

/**
 * Worker → main. `records` holds RECORD_FIELDS numbers per completed request, ns after the
 * epoch: start, request fully written, first response byte, response complete.
 */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'records'; id: number; records: Float64Array; errors: number; firstError?: string }
  | { type: 'stopped' }
  | { type: 'fatal'; message: string };

/** Numbers per record in `records`. */
export const RECORD_FIELDS = 4;
