import { modelConfigFromJson } from '../config/index.js';
import { InvalidArgumentError, UnsupportedError } from '../errors/index.js';
import type { ModelConfig } from '../generated/model_config_pb.js';
import { codeCarryingOverride } from './file-override.js';

/** Parameters of a repository load request (reference §1.5, §8 "Explicit load"). */
export interface LoadModelParameters {
  /** A ModelConfig as JSON text, used instead of config.pbtxt. */
  config?: string;
  /**
   * `file:<version>/<path>` overrides: parameter name as sent (`file:1/model.onnx`; a key
   * without the prefix is taken as the path) → content. Requires `config` and the server flag
   * `--model-load-allow-file-override`.
   */
  files?: Map<string, Uint8Array>;
}

/** Triton's message for a load that could not read the model from its repository. */
export function pollFailed(name: string): string {
  return `failed to load '${name}', failed to poll from model repository`;
}

/** The server flags that allow overrides (`--model-load-allow-file-override`, `--model-load-allow-code-override`). */
export interface OverrideAllowance {
  allowFileOverride?: boolean;
  allowCodeOverride?: boolean;
}

/**
 * Checks a load request's overrides against the server flags (Triton's load API rules) and
 * parses the config override.
 * @returns the parsed config override (undefined when none) and the `file:` overrides.
 * @throws UnsupportedError for `file:` parameters without `allowFileOverride`, or for ones that
 *   carry code (a JavaScript model, any file of a code backend) without `allowCodeOverride`;
 *   InvalidArgumentError "<poll failed>: Invalid config override: ..." for a config that does
 *   not parse, and Triton's "Load parameter 'config' must be specified for model file
 *   override" for files without a config.
 */
export function resolveLoadParameters(
  name: string,
  parameters: LoadModelParameters,
  allow: OverrideAllowance,
): { config: ModelConfig | undefined; files: Map<string, Uint8Array> } {
  const files = parameters.files ?? new Map<string, Uint8Array>();
  if (files.size > 0 && !(allow.allowFileOverride ?? false)) {
    throw new UnsupportedError(
      `failed to load '${name}': model file overrides ('${[...files.keys()][0]}') are disabled; start the server with --model-load-allow-file-override to accept 'file:' load parameters`,
    );
  }
  let config: ModelConfig | undefined;
  if (parameters.config !== undefined) {
    try {
      config = modelConfigFromJson(parameters.config);
    } catch (err) {
      throw new InvalidArgumentError(`${pollFailed(name)}: Invalid config override: ${(err as Error).message}`);
    }
  }
  if (files.size > 0 && config === undefined) {
    throw new InvalidArgumentError(`${pollFailed(name)}: Load parameter 'config' must be specified for model file override`);
  }
  const code = files.size > 0 && !(allow.allowCodeOverride ?? false) ? codeCarryingOverride(files, config!.backend) : undefined;
  if (code !== undefined) {
    throw new UnsupportedError(
      `failed to load '${name}': file overrides that carry code ('${code}') are disabled: they would let any client that can load models run code as the server's user; start the server with --model-load-allow-code-override=true to accept them`,
    );
  }
  return { config, files };
}
