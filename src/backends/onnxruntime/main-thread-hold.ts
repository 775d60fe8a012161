/**
 * How long synchronous model runs may hold the main thread before the event loop must turn.
 *
 * Inline runs (inline-session.ts) call ORT synchronously, and an instance starts its next
 * queued request as soon as one finishes, so a long queue would otherwise run to its end in
 * one go while sockets, timers and health checks wait. Once runs started within one turn of
 * the event loop have held it for `HOLD_LIMIT_MS`, the next run waits for the following turn
 * (`setImmediate`, after I/O is polled). Shared by every inline instance, since they share
 * the one main thread.
 */

/** Milliseconds of back-to-back synchronous runs after which the next run yields. */
export const HOLD_LIMIT_MS = 2;

let heldSinceMs: number | undefined;

function turned(): void {
  heldSinceMs = undefined;
}

/**
 * Called before a synchronous run. Returns undefined when the run may start now; otherwise a
 * promise that resolves on the next turn of the event loop, after which the caller runs.
 */
export function awaitTurnIfHeld(): Promise<void> | undefined {
  const now = performance.now();
  if (heldSinceMs === undefined) {
    heldSinceMs = now;
    // Queued before any yielding run's immediate, so the next turn starts a fresh hold first.
    setImmediate(turned);
    return undefined;
  }
  if (now - heldSinceMs < HOLD_LIMIT_MS) return undefined;
  return new Promise((resolve) => setImmediate(resolve));
}
