/**
 * Releases completions in the order their tickets were taken (Triton's `preserve_ordering`
 * completion queue in `DynamicBatchScheduler::FinalizeResponses`): a request that finishes
 * early waits until every request dispatched before it has been answered.
 */
export class OrderedCompletion {
  /** Settle functions by ticket; undefined while that request still runs. */
  readonly #slots: ((() => void) | undefined)[] = [];
  /** Ticket number of `#slots[0]`. */
  #base = 0;
  #next = 0;

  /** Reserves the next place in line; take it when the request is dispatched. */
  reserve(): number {
    this.#slots.push(undefined);
    return this.#next++;
  }

  /** Records that `ticket` finished; runs `settle` now or once all earlier tickets settled. */
  complete(ticket: number, settle: () => void): void {
    this.#slots[ticket - this.#base] = settle;
    let released = 0;
    while (released < this.#slots.length && this.#slots[released] !== undefined) {
      this.#slots[released]!();
      released++;
    }
    if (released > 0) {
      this.#slots.splice(0, released);
      this.#base += released;
    }
  }
}
