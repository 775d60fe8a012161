import { UnavailableError } from '../../errors/index.js';
import { loadNativeAddon, type NativeSystemSharedMemoryRegion } from '../../native/binding.js';

let sequence = 0;

/**
 * A POSIX shared-memory object the server creates for a stub (native core: shm_open +
 * ftruncate + mmap) and unlinks when done, so nothing outlives the instance in /dev/shm.
 * Keys are `/infera-py-<pid>-<n>`, unique in the machine while the server runs.
 */
export class ShmObject {
  readonly key: string;
  readonly byteSize: number;
  readonly #region: NativeSystemSharedMemoryRegion;
  #bytes: Uint8Array | undefined;

  /**
   * @throws NativeAddonLoadError (UNAVAILABLE) without infera's native addon; the native
   *   error when the object cannot be created (no space in /dev/shm).
   */
  constructor(byteSize: number) {
    const addon = loadNativeAddon();
    this.key = `/infera-py-${process.pid}-${++sequence}`;
    this.byteSize = Math.max(byteSize, 1);
    this.#region = addon.SystemSharedMemoryRegion.create(this.key, this.byteSize);
  }

  /** The whole object (a view of the mapping; no copy). */
  get bytes(): Uint8Array {
    if (this.#region.closed) throw new UnavailableError(`shared-memory object '${this.key}' is closed`);
    this.#bytes ??= new Uint8Array(this.#region.buffer());
    return this.#bytes;
  }

  /** Unmaps and unlinks the object. Idempotent. */
  free(): void {
    if (this.#region.closed) return;
    this.#bytes = undefined;
    this.#region.close();
    try {
      loadNativeAddon().SystemSharedMemoryRegion.unlink(this.key);
    } catch {
      // already unlinked
    }
  }
}

/**
 * A shared-memory object that is replaced by a larger one when a use needs more (growing by
 * at least doubling), for the input arena the server writes each execution's inputs into
 * and the output arena a stub writes its responses into.
 */
export class ShmArena {
  #object: ShmObject;

  constructor(initialBytes: number) {
    this.#object = new ShmObject(initialBytes);
  }

  get current(): ShmObject {
    return this.#object;
  }

  /** The object, replaced first (the old one freed) when smaller than `byteSize`. */
  ensure(byteSize: number): ShmObject {
    if (byteSize <= this.#object.byteSize) return this.#object;
    const next = new ShmObject(Math.max(byteSize, this.#object.byteSize * 2));
    this.#object.free();
    this.#object = next;
    return next;
  }

  free(): void {
    this.#object.free();
  }
}
