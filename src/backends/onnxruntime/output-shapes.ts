import type ort from 'onnxruntime-node';
import type { Tensor } from '../../infer/tensor.js';

/**
 * Output shapes known before a run, so that ONNX Runtime can write an output straight into
 * memory given to it (a shared-memory region, worker-region-io.ts) instead of a buffer of its
 * own. A model's declared output dims are numbers or ONNX symbolic dims (`dim_param`); a
 * symbol that also names an input dim takes that input's actual size, since ONNX uses one
 * name for one size throughout a graph (`Identity` of [n] gives [n], a batch dim 'N' is the
 * inputs' 'N'). ORT itself refuses a pre-allocated output whose shape turns out different
 * ("Shape mismatch attempting to re-use buffer"), so a wrong prediction costs a retried run,
 * never wrong bytes.
 */
export class OutputShapes {
  readonly #inputs: ReadonlyMap<string, readonly (number | string)[]>;
  readonly #outputs: ReadonlyMap<string, readonly (number | string)[]>;

  constructor(inputs: readonly ort.InferenceSession.ValueMetadata[], outputs: readonly ort.InferenceSession.ValueMetadata[]) {
    this.#inputs = declaredShapes(inputs);
    this.#outputs = declaredShapes(outputs);
  }

  /**
   * The shape output `name` will have for these inputs, or undefined when it cannot be told:
   * an unnamed or unbound symbolic dim, a symbol bound to two different sizes, an input whose
   * rank differs from its declaration, an undeclared rank, a non-tensor output.
   */
  predict(name: string, inputs: readonly Tensor[]): number[] | undefined {
    const declared = this.#outputs.get(name);
    if (declared === undefined) return undefined;
    const symbols = this.#bind(inputs);
    if (symbols === undefined) return undefined;
    const shape: number[] = [];
    for (const d of declared) {
      const size = typeof d === 'number' ? d : symbols.get(d);
      if (size === undefined || !Number.isInteger(size) || size < 0) return undefined;
      shape.push(size);
    }
    return shape;
  }

  /** Symbol name → size from the actual inputs; NaN for a symbol bound to two sizes. */
  #bind(inputs: readonly Tensor[]): Map<string, number> | undefined {
    const symbols = new Map<string, number>();
    for (const t of inputs) {
      const declared = this.#inputs.get(t.name);
      if (declared === undefined) continue;
      if (declared.length !== t.shape.length) return undefined;
      declared.forEach((d, i) => {
        if (typeof d !== 'string' || d === '') return;
        const seen = symbols.get(d);
        symbols.set(d, seen === undefined || seen === t.shape[i] ? t.shape[i]! : NaN);
      });
    }
    return symbols;
  }
}

/**
 * Declared shapes of the tensors that have one. ORT reports an undeclared rank as an empty
 * shape, indistinguishable from a scalar: those are left out (a scalar is small; copying it
 * costs nothing worth a prediction).
 */
function declaredShapes(values: readonly ort.InferenceSession.ValueMetadata[]): Map<string, readonly (number | string)[]> {
  const shapes = new Map<string, readonly (number | string)[]>();
  for (const v of values) {
    if (v.isTensor && v.shape.length > 0) shapes.set(v.name, v.shape);
  }
  return shapes;
}
