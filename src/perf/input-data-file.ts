import { elementCount } from '../infer/datatype.js';
import { requestShape } from './input-shapes.js';
import type { ModelInfo, TensorInfo } from './model-info.js';
import type { InputPlan, PreparedTensor, RequestStep } from './prepared-tensor.js';
import { valuesToWire, wireElementCount } from './wire-values.js';

/**
 * `--input-data <file.json>` in perf_analyzer's format (docs/input_data.md):
 *
 * ```json
 * { "data": [ { "INPUT0": [1, 2, ...], "INPUT1": { "b64": "..." } },
 *             { "IMAGE": { "content": [...], "shape": [3, 224, 224] } } ] }
 * ```
 *
 * Each entry holds one batch-1 sample of every input, flattened row-major, as plain values, as
 * `{"b64": ...}` raw little-endian bytes (BYTES: 4-byte length prefixes included), or as
 * `{"content": ..., "shape": [...]}` for variable-size inputs (shape without the batch
 * dimension). `"data"` may instead hold arrays of entries: one stream per sequence. With
 * `-b N`, request k of a stream batches entries k, k+1, ... k+N-1 (wrapping around).
 */

export interface InputFileOptions {
  batchSize: number;
  /** Dims without batch from the model and `--shape`, -1 where each entry must give its shape. */
  dims: ReadonlyMap<string, number[]>;
}

interface Sample {
  dims: number[];
  raw: Uint8Array;
}

function describe(value: unknown): string {
  return Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value;
}

function sampleOf(value: unknown, input: TensorInfo, defaultDims: number[], what: string): Sample {
  let content = value;
  let dims = defaultDims;
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'content' in value) {
    const v = value as { content: unknown; shape?: unknown };
    content = v.content;
    if (v.shape !== undefined) {
      if (!Array.isArray(v.shape) || !v.shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
        throw new Error(`${what}: "shape" must be an array of whole numbers ≥ 0`);
      }
      if (v.shape.length !== defaultDims.length) {
        throw new Error(`${what}: "shape" [${v.shape.join(',')}] has ${v.shape.length} dimensions, the input has ${defaultDims.length} ([${defaultDims.join(',')}] without the batch dimension)`);
      }
      defaultDims.forEach((d, i) => {
        if (d !== -1 && d !== (v.shape as number[])[i]) {
          throw new Error(`${what}: "shape" [${(v.shape as number[]).join(',')}] disagrees with the input's fixed dimension ${i} (${d})`);
        }
      });
      dims = v.shape as number[];
    }
  }
  if (dims.includes(-1)) {
    throw new Error(`${what}: the input has variable dimensions [${dims.join(',')}]; give "shape" in the entry or --shape ${input.name}:<d1,d2,...>`);
  }
  let raw: Uint8Array;
  if (Array.isArray(content)) {
    raw = valuesToWire(input.datatype, content.flat(Infinity), what);
  } else if (content !== null && typeof content === 'object' && typeof (content as { b64?: unknown }).b64 === 'string') {
    raw = new Uint8Array(Buffer.from((content as { b64: string }).b64, 'base64'));
  } else {
    throw new Error(`${what}: expected an array of values, {"b64": "..."} or {"content": ..., "shape": [...]}, got ${describe(content)}`);
  }
  const count = wireElementCount(input.datatype, raw, what);
  const expected = elementCount(dims);
  if (count !== expected) {
    throw new Error(`${what}: shape [${dims.join(',')}] needs ${expected} elements, the data has ${count}`);
  }
  return { dims: [...dims], raw };
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

/**
 * Parses an input data file into request steps.
 * @param source the file name, used in messages
 * @throws Error naming the file, stream, entry and input: not JSON, no "data" array, an entry
 *   missing a model input or naming a tensor that is not one, values that do not fit the
 *   datatype or shape, entries batched together with different shapes
 */
export function parseInputDataFile(text: string, source: string, model: ModelInfo, opts: InputFileOptions): InputPlan {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    throw new Error(`input data file '${source}' is not JSON: ${(e as Error).message}`);
  }
  const data = (root as { data?: unknown } | null)?.data;
  if (!Array.isArray(data) || data.length === 0) {
    throw new Error(`input data file '${source}' must be an object with a non-empty "data" array`);
  }
  const nested = data.every((d) => Array.isArray(d));
  if (!nested && data.some((d) => Array.isArray(d))) {
    throw new Error(`input data file '${source}': "data" mixes entries and streams (arrays of entries)`);
  }
  const rawStreams = (nested ? data : [data]) as unknown[][];
  const inputNames = new Set(model.inputs.map((i) => i.name));

  const streams = rawStreams.map((entries, s): RequestStep[] => {
    if (entries.length === 0) throw new Error(`input data file '${source}': stream ${s} has no entries`);
    const where = (e: number): string => `input data file '${source}', ${nested ? `stream ${s}, ` : ''}entry ${e}`;
    const samples = entries.map((entry, e) => {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
        throw new Error(`${where(e)} must be an object of input name → data, got ${describe(entry)}`);
      }
      for (const name of Object.keys(entry)) {
        if (!inputNames.has(name)) {
          throw new Error(`${where(e)} names '${name}', which is not an input of model '${model.name}' (inputs: ${[...inputNames].join(', ')})`);
        }
      }
      return model.inputs.map((input) => {
        const value = (entry as Record<string, unknown>)[input.name];
        if (value === undefined) throw new Error(`${where(e)} has no data for input '${input.name}' of model '${model.name}'`);
        return sampleOf(value, input, opts.dims.get(input.name)!, `${where(e)}, input '${input.name}'`);
      });
    });
    return samples.map((_, k): RequestStep => {
      const group = Array.from({ length: opts.batchSize }, (_, b) => samples[(k + b) % samples.length]!);
      return model.inputs.map((input, i): PreparedTensor => {
        const dims = group[0]![i]!.dims;
        if (group.some((g) => g[i]!.dims.join(',') !== dims.join(','))) {
          throw new Error(`input data file '${source}': entries batched together for input '${input.name}' have different shapes; use -b 1 or entries of one shape`);
        }
        return {
          name: input.name,
          datatype: input.datatype,
          shape: requestShape(model, dims, opts.batchSize),
          raw: concat(group.map((g) => g[i]!.raw)),
        };
      });
    });
  });
  return { streams };
}
