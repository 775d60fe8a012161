import { InvalidArgumentError } from '../../errors/index.js';
import type { ModelConfig } from '../../generated/model_config_pb.js';

/** One `ensemble_scheduling.step`, as the scheduler walks it. */
export interface EnsembleStep {
  /** Position in the config's step list (messages say "step <index>"). */
  index: number;
  model: string;
  /**
   * The version the step names; undefined for -1 (the version requests are served by). The
   * proto default 0 names version 0, as in Triton (the load then fails: "whose required
   * version 0 is not loaded"), so configs write `model_version: -1`.
   */
  version: number | undefined;
  /** Step model input ← ensemble tensor (`input_map`). */
  inputs: { input: string; tensor: string }[];
  /** Step model output → ensemble tensor (`output_map`). */
  outputs: { output: string; tensor: string }[];
}

/**
 * An ensemble config compiled for scheduling (Triton's `EnsembleInfo`). The config has passed
 * `validateEnsembleScheduling`, so the data flow is acyclic and every output is reachable.
 */
export interface EnsemblePlan {
  name: string;
  /** The ensemble's max_batch_size > 0: requests carry a batch dimension. */
  batching: boolean;
  steps: EnsembleStep[];
  /** Ensemble tensor → how many step inputs read it. */
  readers: ReadonlyMap<string, number>;
  /** Ensemble tensor → the steps that read it, in config order. */
  consumers: ReadonlyMap<string, readonly EnsembleStep[]>;
  /**
   * The ensemble's transaction policy (set at load from its steps: a decoupled step model on
   * its data flow makes it decoupled): it may answer zero, one or many times.
   */
  decoupled: boolean;
  /** Ensemble output → its dims (the reshape when it has one), without the batch dimension. */
  outputDims: ReadonlyMap<string, number[]>;
  /** Ensemble inputs a request may leave out. */
  optionalInputs: ReadonlySet<string>;
  /** `max_inflight_requests`: per-step limit on in-flight step requests; 0 = none. */
  maxInflight: number;
}

/**
 * Compiles an ensemble config (already checked by `validateEnsembleScheduling`) into the plan
 * every request of the ensemble walks.
 * @throws InvalidArgumentError when the config has no `ensemble_scheduling`.
 */
export function planEnsemble(config: ModelConfig): EnsemblePlan {
  const scheduling = config.schedulingChoice;
  if (scheduling.case !== 'ensembleScheduling') {
    throw new InvalidArgumentError(`model '${config.name}' has no ensemble_scheduling`);
  }
  const readers = new Map<string, number>();
  const steps = scheduling.value.step.map((s, index): EnsembleStep => {
    const inputs = Object.entries(s.inputMap).map(([input, tensor]) => ({ input, tensor }));
    for (const { tensor } of inputs) readers.set(tensor, (readers.get(tensor) ?? 0) + 1);
    return {
      index,
      model: s.modelName,
      version: s.modelVersion === -1n ? undefined : Number(s.modelVersion),
      inputs,
      outputs: Object.entries(s.outputMap).map(([output, tensor]) => ({ output, tensor })),
    };
  });
  const consumers = new Map<string, EnsembleStep[]>();
  for (const step of steps) for (const { tensor } of step.inputs) consumers.set(tensor, [...(consumers.get(tensor) ?? []), step]);
  const outputDims = new Map(config.output.map((o) => [o.name, (o.reshape?.shape ?? o.dims).map(Number)]));
  return {
    name: config.name,
    batching: config.maxBatchSize > 0,
    steps,
    readers,
    consumers,
    decoupled: config.modelTransactionPolicy?.decoupled === true,
    outputDims,
    optionalInputs: new Set(config.input.filter((i) => i.optional).map((i) => i.name)),
    maxInflight: Number(scheduling.value.maxInflightRequests),
  };
}
