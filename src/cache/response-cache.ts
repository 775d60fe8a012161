import type { ModelConfig } from '../generated/model_config_pb.js';
import type { InferenceRequest, Tensor } from '../infer/tensor.js';
import { nowNs } from '../observability/stats-recorder.js';
import { responseCacheKey } from './cache-key.js';

/** Bytes an entry is charged besides its tensor data: names, shapes and bookkeeping. */
const ENTRY_OVERHEAD = 64;
const TENSOR_OVERHEAD = 32;

interface Entry {
  outputs: Tensor[];
  bytes: number;
}

/** What a lookup found; keep it to `store` the response of a miss. */
export interface CacheProbe {
  key: string;
  /** Nanoseconds the hashing and lookup took. */
  lookupNs: number;
  /** The cached outputs (fresh copies) on a hit; undefined on a miss. */
  outputs?: Tensor[];
}

/**
 * Whether a model uses the response cache when the server has one (`response_cache.enable`,
 * response_cache.md): only default and dynamic-batcher models, never sequence-batched or
 * decoupled ones (config validation already refuses those combinations).
 */
export function usesResponseCache(config: ModelConfig): boolean {
  return (
    config.responseCache?.enable === true &&
    config.schedulingChoice.case !== 'sequenceBatching' &&
    config.modelTransactionPolicy?.decoupled !== true
  );
}

function copyTensor(t: Tensor): Tensor {
  return { name: t.name, datatype: t.datatype, shape: [...t.shape], data: t.data.slice() };
}

function entryBytes(outputs: readonly Tensor[]): number {
  let n = ENTRY_OVERHEAD;
  for (const t of outputs) n += TENSOR_OVERHEAD + t.data.byteLength + Buffer.byteLength(t.name) + 8 * t.shape.length;
  return n;
}

/**
 * Triton's `local` response cache (`--cache-config local,size=<bytes>`): one cache shared by
 * every model, holding successful responses keyed by `responseCacheKey`, bounded by bytes and
 * evicting the least recently used entries. Entries own copies of their tensors, and hits
 * return copies, so neither the batch buffers nor a caller's later writes can change a cached
 * response.
 */
export class ResponseCache {
  /** Insertion order of a Map is the recency order: a hit re-inserts its entry at the end. */
  readonly #entries = new Map<string, Entry>();
  #used = 0;

  /** @param capacityBytes the `size` setting, > 0. */
  constructor(readonly capacityBytes: number) {}

  /** Bytes held by the entries (tensor data plus a fixed per-entry and per-tensor charge). */
  get usedBytes(): number {
    return this.#used;
  }

  get entryCount(): number {
    return this.#entries.size;
  }

  /**
   * Looks a request up for a model that uses the cache; call after validation and before
   * the request is queued (the key hashes its input bytes).
   * @returns undefined when the model does not use the cache; otherwise the probe.
   */
  lookup(modelName: string, version: number, config: ModelConfig, request: InferenceRequest): CacheProbe | undefined {
    if (!usesResponseCache(config)) return undefined;
    const start = nowNs();
    const key = responseCacheKey(modelName, version, request);
    const entry = this.#entries.get(key);
    let outputs: Tensor[] | undefined;
    if (entry !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      outputs = entry.outputs.map(copyTensor);
    }
    return { key, lookupNs: nowNs() - start, outputs };
  }

  /**
   * Stores the outputs of a successful response under the probe's key, evicting least recently
   * used entries until it fits. An entry larger than the whole cache is not stored.
   * @returns 'exists' when another request stored the key first (Triton's ALREADY_EXISTS, not a
   *   miss in the statistics), else 'stored' or 'too-large'; and the nanoseconds it took.
   */
  store(probe: CacheProbe, outputs: readonly Tensor[]): { result: 'stored' | 'exists' | 'too-large'; insertNs: number } {
    const start = nowNs();
    const done = (result: 'stored' | 'exists' | 'too-large') => ({ result, insertNs: nowNs() - start });
    if (this.#entries.has(probe.key)) return done('exists');
    const bytes = entryBytes(outputs);
    if (bytes > this.capacityBytes) return done('too-large');
    for (const [key, entry] of this.#entries) {
      if (this.#used + bytes <= this.capacityBytes) break;
      this.#entries.delete(key);
      this.#used -= entry.bytes;
    }
    this.#entries.set(probe.key, { outputs: outputs.map(copyTensor), bytes });
    this.#used += bytes;
    return done('stored');
  }
}
