/**
 * The typed surface of infera's native addon (`native/addon`, built to
 * `build/Release/infera.node` or shipped as `prebuilds/linux-x64/infera.napi.glibc.node`).
 * Only `binding.ts` loads it; everything else uses these interfaces. Each method notes whether
 * it is synchronous or returns a promise and which error `code` it fails with; those errors are
 * turned into TritonError subclasses by `fromNativeError` / `callNative`.
 *
 * Sizes and offsets are byte counts as JS numbers (exact up to 2^53; larger values are treated
 * as out of range, never wrapped). Device pointers are bigints.
 */

/** What the addon was compiled with (`buildInfo()`). */
export interface NativeBuildInfo {
  /** ENABLE_GPU: CUDA runtime calls compiled in (static cudart). */
  gpu: boolean;
  /** ENABLE_TENSORRT: the TensorRT backend compiled in. */
  tensorrt: boolean;
  /** CUDART_VERSION seen at build time, e.g. 13000; 0 without CUDA. */
  cudaRuntimeVersion: number;
  /** TensorRT version as major*10000 + minor*100 + patch; 0 without it. */
  tensorrtVersion: number;
  /** The N-API version the addon targets. */
  napiVersion: number;
}

/** The run-time CUDA device query (`deviceQuery()`), computed once per process. */
export interface NativeDeviceQuery {
  /** Usable CUDA devices; 0 without a GPU, a driver, or CUDA in the build. */
  deviceCount: number;
  /** Why there are none; '' when deviceCount > 0. */
  reason: string;
}

export interface NativePinnedMemoryPoolStats {
  /** Bytes of the pool block; 0 when the pool is disabled. */
  totalBytes: number;
  /** Bytes of the block handed out (rounded up to 64-byte units). */
  usedBytes: number;
  /** The block is page-locked (cudaHostAlloc on a machine with a GPU). */
  pageLocked: boolean;
  pooledAllocations: number;
  /** Allocations that did not fit and came from the heap. */
  fallbackAllocations: number;
  /** Bytes held now by heap fallbacks. */
  fallbackBytes: number;
}

/** `new PinnedMemoryPool(byteSize)`: throws code INTERNAL when the block cannot be allocated. */
export interface NativePinnedMemoryPool {
  /**
   * [sync] An ArrayBuffer of exactly `byteSize` bytes, 64-byte aligned, from the pool (or the
   * heap when the pool is full); it returns to the pool when garbage-collected. Such external
   * buffers are not transferable to worker threads (Node clones them instead).
   */
  allocate(byteSize: number): ArrayBuffer;
  /** [sync] Usage counters. */
  stats(): NativePinnedMemoryPoolStats;
}

export interface NativeCudaMemoryPoolStats {
  device: number;
  totalBytes: number;
  usedBytes: number;
  pooledAllocations: number;
  fallbackAllocations: number;
  fallbackBytes: number;
}

/**
 * `new CudaMemoryPool(device, byteSize)`: throws code UNSUPPORTED without CUDA or a GPU,
 * INVALID_ARG for a device that does not exist, INTERNAL when cudaMalloc fails.
 */
export interface NativeCudaMemoryPool {
  /** [sync] A device pointer of `byteSize` bytes (pool first, cudaMalloc when full). */
  allocate(byteSize: number): bigint;
  /** [sync] Throws INVALID_ARG for a pointer the pool did not hand out. */
  free(pointer: bigint): void;
  /** [sync] cudaMemcpy host → device. */
  copyFromHost(pointer: bigint, bytes: Uint8Array): void;
  /** [sync] cudaMemcpy device → host, filling all of `destination`. */
  copyToHost(pointer: bigint, destination: Uint8Array): void;
  stats(): NativeCudaMemoryPoolStats;
}

/**
 * A mapped POSIX shared-memory region. The mapping stays until `close()` and until no
 * ArrayBuffer from `buffer()` remains; `close()` detaches that buffer, so every view of it
 * becomes zero-length (JS can never read an unmapped page).
 */
export interface NativeSystemSharedMemoryRegion {
  /** The registered name (for `create`, the key). */
  readonly name: string;
  readonly key: string;
  /** Offset of the region in the POSIX object. */
  readonly offset: number;
  readonly byteSize: number;
  readonly closed: boolean;
  /**
   * The region's process-wide id, for `SystemSharedMemoryRegion.attach` on another thread;
   * unchanged by `close()`, after which `attach` refuses it.
   */
  readonly id: number;
  /** [sync] The ArrayBuffer over the whole region (no copy). Throws UNAVAILABLE once closed. */
  buffer(): ArrayBuffer;
  /**
   * [sync] A view of [offset, offset + byteSize). Throws INVALID_ARG with Triton's messages:
   * "Invalid offset for shared memory region: '<name>'", "Invalid offset + byte size for
   * shared memory region: '<name>'", or the integer-overflow message; INVALID_ARG "shared
   * memory region '<name>' is no longer usable: its object '<key>' is now <n> bytes, ..." when
   * the client shrank the object below the range (as `check`); UNAVAILABLE once closed.
   */
  slice(offset: number, byteSize: number): Uint8Array;
  /**
   * [sync] Whether the POSIX object still holds [offset, offset + byteSize) of the region
   * (fstat): call it right before touching bytes of a view taken earlier, since a page past a
   * shrunk object's end raises SIGBUS. Throws INVALID_ARG "shared memory region '<name>' is no
   * longer usable: its object '<key>' is now <n> bytes, but the request uses bytes up to <end>
   * of it", INTERNAL when fstat fails, UNAVAILABLE once closed. A `create`d region always passes.
   */
  check(offset: number, byteSize: number): void;
  /** [sync] Idempotent. */
  close(): void;
}

export interface NativeSystemSharedMemoryRegionStatic {
  /**
   * [sync] shm_open + mmap of [offset, offset + byteSize) of the object `key` (server side).
   * Throws INTERNAL "Unable to open shared memory region: '<key>'", INVALID_ARG "failed to
   * register shared memory region '<name>': invalid args" (out of the object's bounds),
   * "...: byte_size must be greater than 0" or "...: unable to process address space<reason>"
   * (mmap).
   */
  open(name: string, key: string, offset: number, byteSize: number): NativeSystemSharedMemoryRegion;
  /** [sync] Creates (or resizes) the object `key` and maps all of it (client side). */
  create(key: string, byteSize: number): NativeSystemSharedMemoryRegion;
  /** [sync] shm_unlink; throws NOT_FOUND when there is no such object. */
  unlink(key: string): void;
  /**
   * [sync] From any thread (a worker thread included): a view of [offset, offset + byteSize)
   * of the open region whose `id` is given, over the same mapping (no copy), in an ArrayBuffer
   * of its own that keeps the mapping alive until it is collected, even after the region is
   * closed. Throws INVALID_ARG with `slice`'s messages, UNAVAILABLE once the region is closed.
   */
  attach(id: number, offset: number, byteSize: number): Uint8Array;
}

/** An opened CUDA IPC region (device memory; copies only). */
export interface NativeCudaSharedMemoryRegion {
  readonly name: string;
  readonly deviceId: number;
  readonly byteSize: number;
  readonly closed: boolean;
  /** [sync] The bounds rule of `slice` without touching memory: INVALID_ARG, Triton's messages. */
  checkRange(offset: number, byteSize: number): void;
  /** [sync] Device → host copy of [offset, offset + destination.byteLength). INVALID_ARG out of range. */
  copyToHost(offset: number, destination: Uint8Array): void;
  /** [sync] Host → device copy of `source` to `offset`. INVALID_ARG out of range. */
  copyFromHost(offset: number, source: Uint8Array): void;
  close(): void;
}

export interface NativeCudaSharedMemoryRegionStatic {
  /**
   * [sync] cudaIpcOpenMemHandle of a 64-byte cudaIpcMemHandle_t on `deviceId`. Throws
   * UNSUPPORTED "failed to register CUDA shared memory region: '<name>', GPUs not supported:
   * <reason>" without a GPU; INVALID_ARG for a handle CUDA refuses or a too small allocation.
   */
  open(name: string, rawHandle: Uint8Array, deviceId: number, byteSize: number): NativeCudaSharedMemoryRegion;
}

/** One I/O tensor of a TensorRT engine; -1 marks a dimension set per request. */
export interface NativeTensorInfo {
  name: string;
  datatype: string;
  shape: number[];
}

export interface NativeTensorRtResult {
  outputs: { name: string; datatype: string; shape: number[]; data: Uint8Array }[];
  /** Nanoseconds: host→device copies, enqueueV3 to completion, device→host copies. */
  timing: { inputNs: number; inferNs: number; outputNs: number };
}

/** One execution context: a CUDA stream and a native thread. */
export interface NativeTensorRtContext {
  /**
   * [async] Runs one batch on the context's thread, completing through a ThreadSafeFunction.
   * Inputs must not change until it settles. Rejects with INVALID_ARG (unknown/missing tensor,
   * shape outside the profile, byte size mismatch), INTERNAL (CUDA/TensorRT failure),
   * UNAVAILABLE after dispose().
   */
  execute(inputs: { name: string; shape: number[]; data: Uint8Array }[], outputNames: string[]): Promise<NativeTensorRtResult>;
  /** [sync] Throws UNAVAILABLE while an execution is in flight. */
  dispose(): void;
}

export interface NativeTensorRtEngine {
  readonly inputs: NativeTensorInfo[];
  readonly outputs: NativeTensorInfo[];
  /** [sync] A context whose outputs come from `pool` (heap when omitted). */
  createContext(pool?: NativePinnedMemoryPool): NativeTensorRtContext;
  dispose(): void;
}

export interface NativeTensorRtEngineStatic {
  /**
   * [async] Deserializes a plan on `device` (libuv pool). Rejects with UNSUPPORTED
   * "TensorRT is not available in this build" when TensorRT was not found at build time, or
   * without a GPU; INVALID_ARG when TensorRT refuses the plan.
   */
  load(plan: Uint8Array, device: number): Promise<NativeTensorRtEngine>;
}

/** Everything the addon exports; its keys are `NATIVE_EXPORT_KEYS` in binding.ts. */
export interface NativeAddon {
  /** Must equal NATIVE_ABI_VERSION; a stale build or prebuild is refused. */
  abiVersion: number;
  /** Status code names indexed by native code value; equals NATIVE_STATUS_CODES. */
  statusCodes: string[];
  buildInfo(): NativeBuildInfo;
  deviceQuery(): NativeDeviceQuery;
  /**
   * [sync] Detaches the ArrayBuffer behind `view` now, so that its memory goes at once (freed;
   * for a view from `SystemSharedMemoryRegion.attach`, its hold on the mapping dropped) rather
   * than whenever V8 collects it. V8 counts large buffers as external memory until then, and
   * that pressure is what triggers most GCs of a thread running big tensors. Every view of the
   * buffer reads as empty afterwards: only for buffers nothing else uses. Idempotent.
   */
  detachBuffer(view: ArrayBufferView): void;
  /**
   * A TCP socket bound with SO_REUSEPORT to `host` (an IP literal) and `port` (0 = pick),
   * not yet listening, for `server.listen({ fd })` in one protocol thread: each thread binds
   * its own and the kernel spreads connections over them (Node 20 has no `reusePort`).
   * @throws Error with code INVALID_ARG (bad host or port), UNAVAILABLE (errno's text, e.g.
   *   EADDRINUSE from a holder without SO_REUSEPORT), UNSUPPORTED (no SO_REUSEPORT).
   */
  bindReusePort(host: string, port: number): { fd: number; port: number };
  PinnedMemoryPool: new (byteSize: number) => NativePinnedMemoryPool;
  CudaMemoryPool: new (device: number, byteSize: number) => NativeCudaMemoryPool;
  SystemSharedMemoryRegion: NativeSystemSharedMemoryRegionStatic;
  CudaSharedMemoryRegion: NativeCudaSharedMemoryRegionStatic;
  TensorRtEngine: NativeTensorRtEngineStatic;
}
