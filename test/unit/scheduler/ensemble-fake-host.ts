/**
 * A fake EnsembleHost and helpers for the EnsembleScheduler tests: each step request waits
 * until the test answers it, so tests see when steps start and what they receive.
 */
import { create } from '@bufbuild/protobuf';
import { DataType, ModelConfigSchema, type ModelConfig } from '../../../src/generated/model_config_pb.js';
import { makeModelSpec, type ModelSpec } from '../../../src/infer/model-spec.js';
import type { InferenceRequest, Tensor } from '../../../src/infer/tensor.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { ComposingModel, ComposingResult, EnsembleHost } from '../../../src/scheduler/ensemble/ensemble-host.js';
import { EnsembleScheduler } from '../../../src/scheduler/ensemble/ensemble-scheduler.js';
import type { ComputeTiming } from '../../../src/infer/compute-timing.js';
import type { FailureReason, ModelStatsRecorder } from '../../../src/observability/stats-recorder.js';

export interface Call {
  request: InferenceRequest;
  signal?: AbortSignal;
  resolve: (r: ComposingResult) => void;
  reject: (e: unknown) => void;
}

/**
 * A host whose composing models are all FP32 `[-1]` with max_batch_size 4 unless `specs`
 * says otherwise. Each step request waits until the test answers it.
 */
export class FakeHost implements EnsembleHost {
  readonly calls: Call[] = [];
  constructor(private readonly specs: Record<string, ModelSpec> = {}) {}

  model(name: string): ComposingModel {
    const spec = this.specs[name] ?? makeModelSpec(name, 1, 4, [{ name: 'x', datatype: 'FP32', dims: [-1], optional: false }], []);
    return { spec, decoupled: this.decoupledModels.has(name) };
  }

  infer(request: InferenceRequest, _model: ComposingModel, signal?: AbortSignal): Promise<ComposingResult> {
    return new Promise((resolve, reject) => this.calls.push({ request, signal, resolve, reject }));
  }

  /** Models answered as decoupled: their step requests go to `inferStream`, answered with `stream`. */
  readonly decoupledModels = new Set<string>();
  readonly streams: { request: InferenceRequest; push: (r: ComposingResult & { final: boolean }) => void; end: (err?: unknown) => void }[] = [];

  async *inferStream(request: InferenceRequest): AsyncIterable<ComposingResult & { final: boolean }> {
    const queue: (ComposingResult & { final: boolean })[] = [];
    let ended: { err?: unknown } | undefined;
    let wake: () => void = () => undefined;
    this.streams.push({
      request,
      push: (r) => {
        queue.push(r);
        wake();
      },
      end: (err) => {
        ended = { err };
        wake();
      },
    });
    for (;;) {
      if (queue.length > 0) {
        yield queue.shift()!;
        continue;
      }
      if (ended !== undefined) {
        if (ended.err !== undefined) throw ended.err;
        return;
      }
      await new Promise<void>((r) => (wake = r));
    }
  }

  started(): string[] {
    return this.calls.map((c) => c.request.modelName);
  }

  call(model: string): Call {
    const c = this.calls.find((x) => x.request.modelName === model);
    if (c === undefined) throw new Error(`no call to ${model} (calls: ${this.started().join(', ')})`);
    return c;
  }

  /** Answers the step request to `model`: each requested output = its first input, renamed. */
  answer(model: string, timing?: ComputeTiming): void {
    const c = this.call(model);
    const first = c.request.inputs[0]!;
    c.resolve({ outputs: (c.request.outputs ?? []).map((o) => ({ ...first, name: o.name })), timing });
  }
}

export class RecordingStats implements ModelStatsRecorder {
  readonly executions: { batchSize: number; timing: ComputeTiming }[] = [];
  readonly failures: FailureReason[] = [];
  requestSuccess(): void {}
  requestFailure(reason: FailureReason): void {
    this.failures.push(reason);
  }
  execution(batchSize: number, timing: ComputeTiming): void {
    this.executions.push({ batchSize, timing });
  }
  pending(): void {}
}

export type StepDef = { model: string; version?: number; inputs: Record<string, string>; outputs: Record<string, string> };

export function ensemble(
  steps: StepDef[],
  opts: { inputs?: string[]; outputs?: string[]; maxBatchSize?: number; maxInflight?: number; decoupled?: boolean } = {},
): ModelConfig {
  const io = (name: string) => ({ name, dataType: DataType.TYPE_FP32, dims: [-1n] });
  return create(ModelConfigSchema, {
    name: 'ens',
    platform: 'ensemble',
    maxBatchSize: opts.maxBatchSize ?? 4,
    input: (opts.inputs ?? ['IN']).map(io),
    output: (opts.outputs ?? ['OUT']).map(io),
    modelTransactionPolicy: { decoupled: opts.decoupled ?? false },
    schedulingChoice: {
      case: 'ensembleScheduling',
      value: {
        maxInflightRequests: opts.maxInflight ?? 0,
        step: steps.map((s) => ({ modelName: s.model, modelVersion: BigInt(s.version ?? -1), inputMap: s.inputs, outputMap: s.outputs })),
      },
    },
  });
}

export function scheduler(config: ModelConfig, host: EnsembleHost, stats: ModelStatsRecorder = new RecordingStats()): EnsembleScheduler {
  return new EnsembleScheduler({ config, label: 'ens:1', stats, logger: silentLogger(), host });
}

export function fp32(name: string, values: number[], shape = [1, values.length]): Tensor {
  return { name, datatype: 'FP32', shape, data: new Uint8Array(Float32Array.from(values).buffer) };
}

export function values(t: Tensor): number[] {
  return Array.from(new Float32Array(t.data.slice().buffer));
}

/** Lets pending promise callbacks run. */
export const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
