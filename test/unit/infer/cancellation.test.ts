import { describe, expect, test, vi } from 'vitest';
import { Cancellation, toAbortSignal, type CancelSignal } from '../../../src/infer/cancellation.js';

describe('Cancellation', () => {
  test('aborts once, with its reason, running each listener once in order', () => {
    const c = new Cancellation();
    const calls: string[] = [];
    const a = (): void => void calls.push(`a:${String(c.aborted)}`);
    const b = (): void => void calls.push('b');
    c.addEventListener('abort', a, { once: true });
    c.addEventListener('abort', b);
    c.addEventListener('abort', a); // the same function again: ignored, as on an EventTarget
    expect(c.aborted).toBe(false);
    expect(c.reason).toBeUndefined();
    c.abort('why');
    c.abort('again');
    expect(calls).toEqual(['a:true', 'b']);
    expect(c.aborted).toBe(true);
    expect(c.reason).toBe('why');
  });

  test('a removed listener does not run, also when an earlier listener removes it', () => {
    const c = new Cancellation();
    const late = vi.fn();
    const gone = vi.fn();
    c.addEventListener('abort', gone);
    c.removeEventListener('abort', gone);
    c.addEventListener('abort', () => c.removeEventListener('abort', late));
    c.addEventListener('abort', late);
    c.abort(undefined);
    expect(gone).not.toHaveBeenCalled();
    expect(late).not.toHaveBeenCalled();
  });

  test('listeners added after the abort never run', () => {
    const c = new Cancellation();
    c.abort(1);
    const after = vi.fn();
    c.addEventListener('abort', after);
    expect(after).not.toHaveBeenCalled();
  });

  test('a throwing listener is reported as uncaught and the others still run', async () => {
    const c = new Cancellation();
    const next = vi.fn();
    c.addEventListener('abort', () => {
      throw new Error('boom');
    });
    c.addEventListener('abort', next);
    const uncaught = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve));
    c.abort(undefined);
    expect(next).toHaveBeenCalledOnce();
    expect(await uncaught).toMatchObject({ message: 'boom' });
  });

  test('is a CancelSignal, as an AbortSignal is', () => {
    const signals: CancelSignal[] = [new Cancellation(), new AbortController().signal];
    expect(signals.every((s) => s.aborted === false)).toBe(true);
  });
});

describe('toAbortSignal', () => {
  test('passes an AbortSignal (and no signal) through', () => {
    const signal = new AbortController().signal;
    expect(toAbortSignal(signal)).toBe(signal);
    expect(toAbortSignal(undefined)).toBeUndefined();
  });

  test('follows a Cancellation, before or after it aborts', () => {
    const before = new Cancellation();
    before.abort('early');
    const early = toAbortSignal(before)!;
    expect(early.aborted).toBe(true);
    expect(early.reason).toBe('early');

    const c = new Cancellation();
    const signal = toAbortSignal(c)!;
    const onAbort = vi.fn();
    signal.addEventListener('abort', onAbort);
    expect(signal.aborted).toBe(false);
    c.abort('late');
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe('late');
    expect(onAbort).toHaveBeenCalledOnce();
  });
});
