import {
  AlreadyExistsError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  UnsupportedError,
} from '../errors/index.js';
import {
  callNative,
  loadNativeAddon,
  type NativeAddon,
  type NativeCudaSharedMemoryRegion,
  type NativeSystemSharedMemoryRegion,
} from '../native/binding.js';
import type { RegionSpan } from './region-span.js';
import {
  CLIENT_SHM_DISABLED,
  type CudaSharedMemoryStatus,
  type SharedMemoryLease,
  type SharedMemoryService,
  type SystemSharedMemoryStatus,
} from './shared-memory-types.js';
import { markUntransferable } from '../infer/untransferable.js';

/** Triton reserves this key prefix for the Python backend's own regions (server common.h). */
const RESERVED_KEY_PREFIX = 'triton_python_backend_shm_region_';

type Entry =
  | {
      kind: 'system';
      name: string;
      native: NativeSystemSharedMemoryRegion;
      /**
       * The region's ArrayBuffer, held so that every view comes from this one (marked
       * untransferable) buffer; the addon would otherwise make a new one once it was collected.
       */
      buffer: ArrayBuffer;
      leases: number;
      registered: boolean;
    }
  | { kind: 'cuda'; name: string; native: NativeCudaSharedMemoryRegion; leases: number; registered: boolean };

export interface SharedMemoryManagerOptions {
  /** `--allow-client-shm`, default false (Triton's current default). */
  allowClientShm?: boolean;
  /** The addon, for tests; loaded lazily (on the first register) by default. */
  addon?: () => NativeAddon;
}

/**
 * The server's registry of client shared-memory regions (Triton server
 * `SharedMemoryManager`), owned by one InferenceServer rather than process-wide.
 *
 * In-flight safety: every request input or output in shared memory holds a lease; an
 * unregistered region leaves the name map at once (so the name can be registered again) but
 * is closed only when its last lease is released. Closing detaches the region's ArrayBuffer,
 * so nothing in JS can touch an unmapped page. Triton instead keeps an in-use region listed
 * (flagged "awaiting unregister") until its requests finish.
 */
export class SharedMemoryManager implements SharedMemoryService {
  readonly allowClientShm: boolean;
  readonly #addon: () => NativeAddon;
  // Sorted on output; a Map keeps the code simple and lookups O(1).
  readonly #regions = new Map<string, Entry>();

  constructor(options: SharedMemoryManagerOptions = {}) {
    this.allowClientShm = options.allowClientShm ?? false;
    this.#addon = options.addon ?? loadNativeAddon;
  }

  systemStatus(name?: string): SystemSharedMemoryStatus[] {
    return this.#status('system', name).map((e) => {
      const r = e.native as NativeSystemSharedMemoryRegion;
      return { name: e.name, key: r.key, offset: r.offset, byte_size: r.byteSize };
    });
  }

  cudaStatus(name?: string): CudaSharedMemoryStatus[] {
    return this.#status('cuda', name).map((e) => {
      const r = e.native as NativeCudaSharedMemoryRegion;
      return { name: e.name, device_id: r.deviceId, byte_size: r.byteSize };
    });
  }

  registerSystem(name: string, key: string, offset: number, byteSize: number): void {
    this.#requireAllowed();
    validateKey(name, key);
    this.#requireFree(name);
    const addon = this.#addon();
    const native = callNative(() => addon.SystemSharedMemoryRegion.open(name, key, offset, byteSize));
    const buffer = callNative(() => native.buffer());
    // Region memory must never be moved to a worker thread (that would detach it here).
    markUntransferable(buffer);
    this.#regions.set(name, { kind: 'system', name, native, buffer, leases: 0, registered: true });
  }

  registerCuda(name: string, rawHandle: Uint8Array, deviceId: number, byteSize: number): void {
    this.#requireAllowed();
    this.#requireFree(name);
    const addon = this.#addon();
    const native = callNative(() => addon.CudaSharedMemoryRegion.open(name, rawHandle, deviceId, byteSize));
    this.#regions.set(name, { kind: 'cuda', name, native, leases: 0, registered: true });
  }

  unregisterSystem(name?: string): void {
    this.#requireAllowed();
    this.#unregister('system', name);
  }

  unregisterCuda(name?: string): void {
    this.#requireAllowed();
    this.#unregister('cuda', name);
  }

  acquire(region: string, offset: number, byteSize: number): SharedMemoryLease {
    const entry = this.#regions.get(region);
    if (entry === undefined) throw new NotFoundError(`Unable to find shared memory region: '${region}'`);
    let view: Uint8Array | undefined;
    let span: RegionSpan | undefined;
    if (entry.kind === 'system') {
      const native = entry.native;
      view = callNative(() => native.slice(offset, byteSize));
      span = { regionId: native.id, offset, byteSize, key: native.key, objectOffset: native.offset + offset };
    } else {
      callNative(() => entry.native.checkRange(offset, byteSize));
    }
    entry.leases++;
    let released = false;
    return {
      region,
      kind: entry.kind,
      offset,
      byteSize,
      span,
      read: () => {
        if (view !== undefined) return view;
        const host = new Uint8Array(byteSize);
        callNative(() => (entry.native as NativeCudaSharedMemoryRegion).copyToHost(offset, host));
        return host;
      },
      write: (data: Uint8Array, tensor: string) => {
        if (data.byteLength > byteSize) {
          throw new InternalError(
            `shared memory size specified with the request for output '${tensor}' (${byteSize} bytes) ` +
              `should be at least ${data.byteLength} bytes to hold the results`,
          );
        }
        if (view !== undefined) {
          // Already in place (a worker wrote it there): copying it onto itself would be a
          // full-size memmove for nothing.
          if (data.buffer === view.buffer && data.byteOffset === view.byteOffset) return;
          // The client may have shrunk its object since the lease was taken; writing past the
          // object's end would raise SIGBUS and kill the server.
          const native = entry.native as NativeSystemSharedMemoryRegion;
          callNative(() => native.check(offset, data.byteLength));
          view.set(data);
        } else callNative(() => (entry.native as NativeCudaSharedMemoryRegion).copyFromHost(offset, data));
      },
      check: () => {
        if (entry.kind === 'system') callNative(() => (entry.native as NativeSystemSharedMemoryRegion).check(offset, byteSize));
      },
      release: () => {
        if (released) return;
        released = true;
        entry.leases--;
        if (entry.leases === 0 && !entry.registered) entry.native.close();
      },
    };
  }

  /** Regions currently registered (both kinds). */
  get size(): number {
    return this.#regions.size;
  }

  /** Unregisters everything (server shutdown); in-use regions close when released. */
  close(): void {
    for (const kind of ['system', 'cuda'] as const) this.#unregister(kind, undefined);
  }

  #status(kind: Entry['kind'], name: string | undefined): Entry[] {
    if (name === undefined || name === '') {
      return [...this.#regions.values()].filter((e) => e.kind === kind).sort((a, b) => compare(a.name, b.name));
    }
    const entry = this.#regions.get(name);
    const label = kind === 'cuda' ? 'cuda' : 'system';
    if (entry === undefined) throw new NotFoundError(`Unable to find ${label} shared memory region: '${name}'`);
    if (entry.kind !== kind) {
      throw new NotFoundError(
        entry.kind === 'cuda'
          ? `The region named '${name}' is registered as CUDA shared memory, not system shared memory`
          : `The region named '${name}' is registered as system shared memory, not CUDA shared memory`,
      );
    }
    return [entry];
  }

  #unregister(kind: Entry['kind'], name: string | undefined): void {
    const targets = name === undefined || name === '' ? [...this.#regions.values()] : [this.#regions.get(name)];
    for (const entry of targets) {
      if (entry === undefined || entry.kind !== kind) continue;
      this.#regions.delete(entry.name);
      entry.registered = false;
      if (entry.leases === 0) entry.native.close();
    }
  }

  #requireAllowed(): void {
    if (!this.allowClientShm) throw new UnsupportedError(CLIENT_SHM_DISABLED);
  }

  #requireFree(name: string): void {
    if (this.#regions.has(name)) throw new AlreadyExistsError(`shared memory region '${name}' already in manager`);
  }
}

/** Triton's `ValidateSharedMemoryKey` (server common.cc). */
function validateKey(name: string, key: string): void {
  let first = 0;
  while (first < key.length && key[first] === '/') first++;
  if (first === key.length) {
    throw new InvalidArgumentError(`cannot register shared memory region '${name}' - invalid shm key '${key}'`);
  }
  if (key.startsWith(RESERVED_KEY_PREFIX, first)) {
    throw new InvalidArgumentError(
      `cannot register shared memory region '${name}' with key '${key}' as the key contains the reserved prefix ` +
        `'${RESERVED_KEY_PREFIX}'`,
    );
  }
}

/** std::map order (byte-wise), which Triton's status lists follow. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
