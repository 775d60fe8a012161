import { InvalidArgumentError, UnavailableError } from '../errors/index.js';
import type { ModelConfig } from '../generated/model_config_pb.js';

/**
 * The model config parameter that limits one execution, in milliseconds (0 or absent: no
 * limit). Triton has no such limit (its request `timeout` only bounds the time a request
 * waits in a batcher's queue); infera adds it for backends that run model code which can
 * hang — a JavaScript worker thread, a Python stub process — and that it can stop and
 * restart. Off by default: a model may legitimately run for minutes.
 */
export const EXECUTION_TIMEOUT_PARAMETER = 'EXECUTION_TIMEOUT_MS';

/**
 * A model config parameter (`parameters { key: value { string_value } }`) read as a
 * non-negative integer.
 * @returns `fallback` when the parameter is absent or empty.
 * @throws InvalidArgumentError "model '<m>': parameter '<key>' must be a non-negative integer,
 *   got '<value>'" (the load fails with it).
 */
export function integerParameter(config: ModelConfig, key: string, fallback: number): number {
  const raw = config.parameters[key]?.stringValue;
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`model '${config.name}': parameter '${key}' must be a non-negative integer, got '${raw}'`);
  }
  return n;
}

/**
 * `EXECUTION_TIMEOUT_MS` of a model config in ms; 0 = no limit.
 * @throws InvalidArgumentError as `integerParameter`.
 */
export function executionTimeoutMs(config: ModelConfig): number {
  return integerParameter(config, EXECUTION_TIMEOUT_PARAMETER, 0);
}

/**
 * The error of the requests of an execution that ran past `EXECUTION_TIMEOUT_MS`: UNAVAILABLE,
 * the code Triton gives a request whose (queue) timeout expired, since the request itself was
 * fine and the restarted instance may serve it.
 * @param label the instance, e.g. "model 'm' version 1 instance 'm_0'".
 */
export function executionTimeoutError(label: string, limitMs: number): UnavailableError {
  return new UnavailableError(
    `${label}: execute did not finish within ${EXECUTION_TIMEOUT_PARAMETER} ${limitMs} ms; its worker thread was terminated and the instance is restarting`,
  );
}

/**
 * Times the execution an instance is running and calls `onExpire` once it ran `limitMs`
 * without finishing. The policy on expiry is the instance's: fail the execution's requests
 * with `executionTimeoutError`, end its thread or process (`Worker.terminate()` also stops a
 * busy loop) and restart it. One execution at a time, as instances run them.
 */
export class ExecutionWatchdog {
  #timer: NodeJS.Timeout | undefined;

  /** @param limitMs 0 = never expires (arm does nothing). */
  constructor(
    readonly limitMs: number,
    private readonly onExpire: () => void,
  ) {}

  /** Starts timing an execution (restarting the clock if one was being timed). */
  arm(): void {
    this.disarm();
    if (this.limitMs <= 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.onExpire();
    }, this.limitMs);
    // A timed execution keeps the instance's thread referenced; the timer alone must not keep
    // the process alive.
    this.#timer.unref();
  }

  /** The execution finished (or was failed): stops timing it. */
  disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
