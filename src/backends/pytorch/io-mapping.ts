import { InvalidArgumentError } from '../../errors/index.js';

/**
 * How the config's tensor names map to TorchScript's positional inputs and outputs, by the
 * rules of Triton's PyTorch backend (`GetNamingConvention`, `AddInputToMap`, `ValidateOutputs`
 * in its src/pt/model_instance_state.cc; README "Model Configuration"):
 *
 * - inputs: FORWARD_ARGUMENT when every config input is named like an argument of `forward`;
 *   else NAMED_INDEX when every name has `__` followed by digits (`INPUT__0`: argument 0);
 *   else STRICT_CONFIG_ORDERING (the config's order);
 * - outputs: NAMED_INDEX (`OUTPUT__1`: element 1 of the returned tuple) or, failing that,
 *   STRICT_CONFIG_ORDERING.
 *
 * Quirks kept: the index is what follows the first `__`, and an empty index counts as digits
 * (index 0, C's atoi). Triton logs a warning when a name has `__` but no digits after it.
 */
export type NamingConvention = 'FORWARD_ARGUMENT' | 'NAMED_INDEX' | 'STRICT_CONFIG_ORDERING';

export interface IoMapping {
  convention: NamingConvention;
  /** Config name → position (forward argument, or element of the returned tuple). */
  index: Map<string, number>;
  /** What Triton logs at WARNING level while choosing the convention. */
  warnings: string[];
}

const DELIMITER = '__';

function indexPart(name: string): { delimited: boolean; digits: boolean; index: number } {
  const at = name.indexOf(DELIMITER);
  if (at < 0) return { delimited: false, digits: false, index: 0 };
  const rest = name.slice(at + DELIMITER.length);
  const digits = /^\d*$/.test(rest);
  return { delimited: true, digits, index: digits && rest !== '' ? Number.parseInt(rest, 10) : 0 };
}

/**
 * The index of a `<name>__<index>` name (what follows the first `__`, all digits; empty counts
 * as 0, C's atoi), or undefined when the name does not follow the convention.
 */
export function namedIndex(name: string): number | undefined {
  const part = indexPart(name);
  return part.delimited && part.digits ? part.index : undefined;
}

function namedIndexOrStrict(
  names: string[],
  kind: 'input' | 'output',
  model: string,
): { convention: NamingConvention; warnings: string[] } {
  for (const name of names) {
    const part = indexPart(name);
    if (!part.delimited) return { convention: 'STRICT_CONFIG_ORDERING', warnings: [] };
    if (!part.digits) {
      const warning =
        kind === 'input'
          ? `input '${name}' or previous input(s) are neither an input argument to the model '${model}' nor do they follow the <name>__<index> naming convention. Falling back to enforcing strict ordering from model configuration.`
          : `output '${name}' or previous output(s) of the model '${model}' do not follow the <name>__<index> naming convention. Falling back to enforcing strict ordering from model configuration.`;
      return { convention: 'STRICT_CONFIG_ORDERING', warnings: [warning] };
    }
  }
  return { convention: 'NAMED_INDEX', warnings: [] };
}

function indexFor(convention: NamingConvention, name: string, configPosition: number, forwardArgs: string[]): number {
  if (convention === 'FORWARD_ARGUMENT') return forwardArgs.indexOf(name);
  if (convention === 'NAMED_INDEX') return indexPart(name).index;
  return configPosition;
}

/**
 * Maps the config inputs to forward's arguments. Beyond Triton (where a bad index is undefined
 * behaviour), infera checks that the inputs cover forward's arguments exactly once each.
 * @param names config input names, in config order
 * @param forwardArgs forward's argument names after `self`
 * @throws InvalidArgumentError naming the model and the input when an index is out of range
 *   or two inputs map to the same argument.
 */
export function mapInputs(names: string[], forwardArgs: string[], model: string): IoMapping {
  let convention: NamingConvention = 'FORWARD_ARGUMENT';
  let warnings: string[] = [];
  if (forwardArgs.length === 0 || names.some((n) => !forwardArgs.includes(n))) {
    ({ convention, warnings } = namedIndexOrStrict(names, 'input', model));
  }
  const index = new Map<string, number>();
  const taken = new Map<number, string>();
  names.forEach((name, i) => {
    const at = indexFor(convention, name, i, forwardArgs);
    if (at >= forwardArgs.length) {
      throw new InvalidArgumentError(
        `model '${model}': input '${name}' refers to forward argument ${at} (${convention} naming), but forward takes ${forwardArgs.length} argument(s) (${forwardArgs.join(', ')})`,
      );
    }
    const other = taken.get(at);
    if (other !== undefined) {
      throw new InvalidArgumentError(`model '${model}': inputs '${other}' and '${name}' both refer to forward argument ${at} (${convention} naming)`);
    }
    taken.set(at, name);
    index.set(name, at);
  });
  return { convention, index, warnings };
}

/**
 * Maps the config outputs to the values forward returns (a tensor is value 0, a tuple's
 * elements are 0..n-1). Whether an index exists is known only after forward has run: Triton
 * checks it on every execution ("The output ... refers to an output index which doesn't exist").
 */
export function mapOutputs(names: string[], model: string): IoMapping {
  const { convention, warnings } = namedIndexOrStrict(names, 'output', model);
  const index = new Map<string, number>();
  names.forEach((name, i) => index.set(name, indexFor(convention, name, i, [])));
  return { convention, index, warnings };
}
