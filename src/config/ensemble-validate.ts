import { InvalidArgumentError } from '../errors/index.js';
import type { ModelConfig, ModelEnsembling_Step } from '../generated/model_config_pb.js';
import { ENSEMBLE_PLATFORM } from './constants.js';

/** A tensor of the ensemble's data flow (Triton's `EnsembleTensor`). */
interface FlowTensor {
  name: string;
  /** Some step writes it (an output map names it). */
  produced: boolean;
  /** Reachable from the ensemble inputs. */
  ready: boolean;
  /** Tensors it is computed from: the inputs of the step that writes it. */
  prev: FlowTensor[];
  /** Tensors computed from it: the outputs of the steps that read it. */
  next: FlowTensor[];
}

function tensorOf(graph: Map<string, FlowTensor>, name: string): FlowTensor {
  let t = graph.get(name);
  if (t === undefined) {
    t = { name, produced: false, ready: false, prev: [], next: [] };
    graph.set(name, t);
  }
  return t;
}

/** Triton's `BuildEnsembleGraph`: links each step's input tensors to its output tensors. */
function buildGraph(config: ModelConfig, steps: readonly ModelEnsembling_Step[]): Map<string, FlowTensor> {
  const name = config.name;
  const graph = new Map<string, FlowTensor>();
  steps.forEach((step, index) => {
    if (step.modelName === '') {
      throw new InvalidArgumentError(`must specify 'model_name' in step ${index} of ensemble '${name}'`);
    }
    if (Object.keys(step.inputMap).length === 0) {
      throw new InvalidArgumentError(`must specify 'input_map' in step ${index} of ensemble '${name}'`);
    }
    if (Object.keys(step.outputMap).length === 0) {
      throw new InvalidArgumentError(`must specify 'output_map' in step ${index} of ensemble '${name}'`);
    }
    const outputs: FlowTensor[] = [];
    for (const tensorName of Object.values(step.outputMap)) {
      const t = tensorOf(graph, tensorName);
      if (t.produced) {
        throw new InvalidArgumentError(
          `ensemble tensor '${tensorName}' can appear in an output map only once for ensemble '${name}' step ${index}`,
        );
      }
      t.produced = true;
      outputs.push(t);
    }
    for (const tensorName of Object.values(step.inputMap)) {
      const t = tensorOf(graph, tensorName);
      for (const out of outputs) {
        out.prev.push(t);
        t.next.push(out);
      }
    }
  });
  return graph;
}

/**
 * A cycle through `start`'s upstream tensors, as `a -> b -> a` (data flows left to right), or
 * undefined. Triton reports a cycle only as a tensor that is "not connected" or "unused"; the
 * cycle is appended to that message so the config's author sees which mappings loop.
 */
function findCycle(start: FlowTensor): string | undefined {
  const path: FlowTensor[] = [];
  const done = new Set<FlowTensor>();
  const visit = (t: FlowTensor): FlowTensor[] | undefined => {
    const at = path.indexOf(t);
    if (at >= 0) return [...path.slice(at), t];
    if (done.has(t)) return undefined;
    path.push(t);
    for (const p of t.prev) {
      const found = visit(p);
      if (found) return found;
    }
    path.pop();
    done.add(t);
    return undefined;
  };
  const cycle = visit(start);
  // Walked upstream; print in the direction data flows.
  return cycle?.reverse().map((t) => t.name).join(' -> ');
}

function withCycle(message: string, tensor: FlowTensor): string {
  const cycle = findCycle(tensor);
  return cycle === undefined ? message : `${message}; the ensemble tensors form a cycle: ${cycle}`;
}

/**
 * The checks Triton runs on an ensemble config by itself (core `ValidateEnsembleSchedulingConfig`
 * and `BuildEnsembleGraph`), before any composing model is looked at:
 *
 * - the platform is "ensemble"; no `instance_group`, `optimization` or `model_warmup`;
 * - at least one step, each with `model_name`, `input_map` and `output_map`;
 * - each ensemble tensor is written by one step at most;
 * - every ensemble input is read by a step; every ensemble output is written, and can be
 *   computed from the ensemble inputs (a step's outputs are ready when all its inputs are);
 * - every other tensor is computed from the inputs and read by a step (no dead ends).
 *
 * Steps that loop (a step reading, directly or through other steps, what it writes) leave
 * their tensors unreachable; the message then also names the cycle.
 * Does nothing for a config without `ensemble_scheduling`.
 * @throws InvalidArgumentError with Triton's message for the first problem found.
 */
export function validateEnsembleScheduling(config: ModelConfig): void {
  const scheduling = config.schedulingChoice;
  if (scheduling.case !== 'ensembleScheduling') return;
  const name = config.name;
  if (config.platform !== ENSEMBLE_PLATFORM) {
    throw new InvalidArgumentError(`ensemble scheduling cannot be set for model '${name}' whose platform is not ${ENSEMBLE_PLATFORM}`);
  }
  if (config.instanceGroup.length !== 0) {
    throw new InvalidArgumentError(`instance group should not be specified for ensemble '${name}'`);
  }
  if (config.optimization !== undefined) {
    throw new InvalidArgumentError(`optimization should not be specified for ensemble '${name}'`);
  }
  if (config.modelWarmup.length !== 0) {
    throw new InvalidArgumentError(`model_warmup can not be specified for ensemble '${name}'`);
  }
  const steps = scheduling.value.step;
  if (steps.length === 0) throw new InvalidArgumentError(`must specify 'step' for ensemble '${name}'`);

  const graph = buildGraph(config, steps);
  const queue: FlowTensor[] = [];
  for (const input of config.input) {
    const t = graph.get(input.name);
    // Triton's message has the stray quote after the name; kept as it is.
    if (t === undefined) throw new InvalidArgumentError(`ensemble input '${input.name}' for ensemble ${name}' is not used`);
    t.ready = true;
    queue.push(t);
  }
  for (let i = 0; i < queue.length; i++) {
    for (const next of queue[i]!.next) {
      if (next.ready) continue;
      if (next.prev.every((p) => p.ready)) {
        next.ready = true;
        queue.push(next);
      }
    }
  }

  const outputs = new Set<string>();
  for (const output of config.output) {
    const t = graph.get(output.name);
    if (t === undefined) throw new InvalidArgumentError(`ensemble output '${output.name}' for ensemble ${name}' is not used`);
    if (!t.ready) throw new InvalidArgumentError(withCycle(notWritten(t, name), t));
    outputs.add(output.name);
  }
  for (const t of graph.values()) {
    if (outputs.has(t.name)) continue;
    if (!t.ready || t.next.length === 0) {
      throw new InvalidArgumentError(withCycle(`ensemble tensor '${t.name}' is unused in ensemble '${name}'`, t));
    }
  }
}

/** Triton's message for an output that cannot be computed, naming the first unconnected source. */
function notWritten(output: FlowTensor, ensemble: string): string {
  let message = `output '${output.name}' for ensemble '${ensemble}' is not written`;
  let last = output;
  let prev: FlowTensor[] | undefined = output.prev;
  const seen = new Set<string>();
  while (prev !== undefined && prev.length > 0) {
    const nodes: FlowTensor[] = prev;
    prev = undefined;
    for (const node of nodes) {
      if (!node.ready && !seen.has(node.name)) {
        seen.add(node.name);
        last = node;
        prev = node.prev;
        break;
      }
    }
  }
  if (last !== output) message += `: at least one of its depending tensors, '${last.name}', is not connected`;
  return message;
}
