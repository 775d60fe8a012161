/**
 * Mutual exclusion per model name. An operation (load, unload, one poll's changes) holds the
 * names it touches, so two operations on the same model run one after the other while
 * operations on unrelated models run side by side, as Triton's dependency-graph node locks
 * allow. Names are taken in sorted order, so two operations that need overlapping sets can
 * never wait on each other in a cycle.
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<void>>();

  /** Resolves, once every name is free, with the function that releases them all. */
  async acquire(names: Iterable<string>): Promise<() => void> {
    const releases: (() => void)[] = [];
    for (const name of [...new Set(names)].sort()) releases.push(await this.#acquireOne(name));
    return () => {
      for (const release of releases) release();
    };
  }

  /** Whether an operation holds or waits for `name`. */
  isHeld(name: string): boolean {
    return this.#tails.has(name);
  }

  #acquireOne(name: string): Promise<() => void> {
    const previous = this.#tails.get(name) ?? Promise.resolve();
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => held);
    this.#tails.set(name, tail);
    return previous.then(() => () => {
      release();
      if (this.#tails.get(name) === tail) this.#tails.delete(name);
    });
  }
}
