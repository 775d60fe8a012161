import type { ComputeTiming } from './infer/compute-timing.js';
import type { EnsembleHost } from './scheduler/ensemble/ensemble-host.js';
import { FINAL_RESPONSE, readyModelOf, runInference, streamInference, type PipelineContext } from './server-pipeline.js';
import type { ReadyModel } from './server-types.js';

/**
 * How the ensemble scheduler runs its steps through this server (`EnsembleHost`, as Triton's
 * ensemble scheduler calls back into the server): a step's model is looked up once, as the
 * `ReadyModel` handle the protocols use, and its request then runs the pipeline with that
 * handle (no second lookup), as a step of a request already accepted (it runs while the
 * server stops). A decoupled step's stream never yields an empty final response: the parent
 * request's `triton_enable_empty_final_response` travels in the step's parameters, but a
 * final flag alone only ends the step.
 */
export function ensembleHostOf(ctx: PipelineContext): EnsembleHost {
  return {
    model: (name, version) => readyModelOf(ctx.getReady(name, version)),
    infer: (request, model, signal) => {
      let timing: ComputeTiming | undefined;
      const step = { onTiming: (t: ComputeTiming) => (timing = t) };
      // The handle is what `model` above returned: a ReadyModel.
      return runInference(ctx, request, signal, { step, model: model as ReadyModel }).then((response) => ({ outputs: response.outputs, timing }));
    },
    inferStream: async function* (request, model, signal) {
      const options = { step: { onTiming: () => undefined }, model: model as ReadyModel, emptyFinalResponse: false };
      for await (const response of streamInference(ctx, request, signal, options)) {
        yield { outputs: response.outputs, final: response.parameters?.[FINAL_RESPONSE] === true };
      }
    },
  };
}
