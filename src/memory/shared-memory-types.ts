import type { RegionSpan } from './region-span.js';

/**
 * The protocol-neutral contract of client shared memory (reference §1.5 system/CUDA SHM
 * endpoints, §2.1 shared-memory RPCs, §1.3 `shared_memory_*` tensor parameters). HTTP and
 * gRPC frontends reach it through `ServerCore.sharedMemory()`; they translate wire forms only.
 */

/** Triton's `kClientShmDisabledErrorStr` (server common.h). */
export const CLIENT_SHM_DISABLED =
  "Client shared memory is disabled. Start the server with '--allow-client-shm=true' to enable.";

/** One system region as the status endpoint lists it (Triton `GetStatus`, CPU). */
export interface SystemSharedMemoryStatus {
  name: string;
  /** The POSIX shared-memory object. */
  key: string;
  /** Byte offset of the region in the object. */
  offset: number;
  byte_size: number;
}

/** One CUDA region as the status endpoint lists it (Triton `GetStatus`, GPU). */
export interface CudaSharedMemoryStatus {
  name: string;
  device_id: number;
  byte_size: number;
}

/**
 * A request's hold on [offset, offset + byteSize) of a registered region. While any lease is
 * held the region stays mapped, even after it is unregistered; release every lease once the
 * request's response is complete.
 */
export interface SharedMemoryLease {
  /** The registered region name. */
  readonly region: string;
  readonly kind: 'system' | 'cuda';
  readonly offset: number;
  readonly byteSize: number;
  /**
   * For a system region, the leased range as another thread can reach it (region-span.ts);
   * undefined for a CUDA region, whose bytes are device memory.
   */
  readonly span?: RegionSpan;
  /**
   * The leased bytes: a zero-copy view for a system region, a host copy of the device bytes
   * for a CUDA region.
   * @throws InternalError when a CUDA copy fails.
   */
  read(): Uint8Array;
  /**
   * Writes `data` at the start of the leased range; nothing to do when `data` already is the
   * start of the range (`read()`'s view or a view at its start, e.g. an output a worker wrote
   * in place).
   * @throws InternalError with Triton's message when `data` is larger than the lease
   *   ("shared memory size specified with the request for output '<t>' (<n> bytes) should be
   *   at least <m> bytes to hold the results"); `tensor` names the output for it.
   */
  write(data: Uint8Array, tensor: string): void;
  /**
   * Whether the leased bytes were trustworthy throughout: for a system region, its object
   * still holds the range and no access faulted on it (a shrink during a model run is turned
   * into zero pages by the native SIGBUS guard). Nothing to check for a CUDA region; a lease
   * with nothing to check may leave it out.
   * @throws InvalidArgumentError "shared memory region '<r>' is no longer usable: ..." naming
   *   the region and its object.
   */
  check?(): void;
  /** Gives the hold back. Idempotent. */
  release(): void;
}

/**
 * The registry of client shared-memory regions. Region names are shared by system and CUDA
 * regions, as in Triton (one map). Register and unregister need `--allow-client-shm=true`;
 * status always answers.
 */
export interface SharedMemoryService {
  /** `--allow-client-shm`. */
  readonly allowClientShm: boolean;

  /**
   * Every system region sorted by name, or the named one.
   * @throws NotFoundError "Unable to find system shared memory region: '<r>'", or "The region
   *   named '<r>' is registered as CUDA shared memory, not system shared memory".
   */
  systemStatus(name?: string): SystemSharedMemoryStatus[];
  /**
   * Maps [offset, offset + byteSize) of the POSIX object `key` as region `name`.
   * @throws UnsupportedError CLIENT_SHM_DISABLED; InvalidArgumentError for a key that is all
   *   slashes or uses Triton's reserved prefix, or an offset/size outside the object;
   *   AlreadyExistsError "shared memory region '<r>' already in manager"; InternalError
   *   "Unable to open shared memory region: '<key>'"; UnavailableError when the native addon
   *   cannot be loaded (message lists causes and fixes).
   */
  registerSystem(name: string, key: string, offset: number, byteSize: number): void;
  /**
   * Unregisters one system region (a name that is not a system region is a no-op, as in
   * Triton) or, without a name, all of them. A region with in-flight requests leaves the
   * registry at once and is unmapped when the last one completes.
   * @throws UnsupportedError CLIENT_SHM_DISABLED.
   */
  unregisterSystem(name?: string): void;

  /** As systemStatus, for CUDA regions ("Unable to find cuda shared memory region: '<r>'"). */
  cudaStatus(name?: string): CudaSharedMemoryStatus[];
  /**
   * Opens a client's cudaIpcMemHandle_t (64 bytes) on GPU `deviceId` as region `name`.
   * @throws UnsupportedError CLIENT_SHM_DISABLED, or "failed to register CUDA shared memory
   *   region: '<r>', GPUs not supported: <reason>" on a machine without a usable GPU;
   *   InvalidArgumentError for a bad handle or size; AlreadyExistsError as registerSystem.
   */
  registerCuda(name: string, rawHandle: Uint8Array, deviceId: number, byteSize: number): void;
  /** As unregisterSystem, for CUDA regions. */
  unregisterCuda(name?: string): void;

  /**
   * A lease on part of a registered region, for an input or output of a request (Triton
   * `GetMemoryInfo`).
   * @throws NotFoundError "Unable to find shared memory region: '<r>'"; InvalidArgumentError
   *   "Invalid offset for shared memory region: '<r>'", "Invalid offset + byte size for shared
   *   memory region: '<r>'" or the integer-overflow message.
   */
  acquire(region: string, offset: number, byteSize: number): SharedMemoryLease;
}
