/** The backend-neutral execution limit: the EXECUTION_TIMEOUT_MS parameter and its watchdog. */
import { create } from '@bufbuild/protobuf';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { executionTimeoutError, executionTimeoutMs, ExecutionWatchdog, integerParameter } from '../../../src/backends/execution-watchdog.js';
import { InvalidArgumentError, UnavailableError } from '../../../src/errors/index.js';
import { ModelConfigSchema, ModelParameterSchema } from '../../../src/generated/model_config_pb.js';

const config = (parameters: Record<string, string>) =>
  create(ModelConfigSchema, {
    name: 'm',
    parameters: Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, create(ModelParameterSchema, { stringValue: v })])),
  });

afterEach(() => {
  vi.useRealTimers();
});

describe('execution limit parameters', () => {
  test('absent or empty gives the fallback; digits give the number', () => {
    expect(executionTimeoutMs(config({}))).toBe(0);
    expect(integerParameter(config({ K: '' }), 'K', 7)).toBe(7);
    expect(integerParameter(config({ K: ' 250 ' }), 'K', 7)).toBe(250);
  });

  test.each(['-1', '1.5', '1e3', 'ten'])('%s is refused, naming the model and parameter', (value) => {
    const read = () => executionTimeoutMs(config({ EXECUTION_TIMEOUT_MS: value }));
    expect(read).toThrow(InvalidArgumentError);
    expect(read).toThrow(`model 'm': parameter 'EXECUTION_TIMEOUT_MS' must be a non-negative integer, got '${value}'`);
  });

  test('the timeout error is UNAVAILABLE and names the instance and limit', () => {
    const err = executionTimeoutError("model 'm' version 1 instance 'm_0'", 300);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toBe(
      "model 'm' version 1 instance 'm_0': execute did not finish within EXECUTION_TIMEOUT_MS 300 ms; its worker thread was terminated and the instance is restarting",
    );
  });
});

describe('ExecutionWatchdog', () => {
  test('fires once after the limit unless disarmed; re-arming restarts the clock', () => {
    vi.useFakeTimers();
    const expired = vi.fn();
    const dog = new ExecutionWatchdog(100, expired);
    dog.arm();
    vi.advanceTimersByTime(60);
    dog.arm();
    vi.advanceTimersByTime(60);
    expect(expired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(40);
    expect(expired).toHaveBeenCalledOnce();
    dog.arm();
    dog.disarm();
    vi.advanceTimersByTime(1000);
    expect(expired).toHaveBeenCalledOnce();
  });

  test('a limit of 0 never fires', () => {
    vi.useFakeTimers();
    const expired = vi.fn();
    new ExecutionWatchdog(0, expired).arm();
    vi.advanceTimersByTime(1e9);
    expect(expired).not.toHaveBeenCalled();
  });
});
