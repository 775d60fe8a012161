import { NotFoundError } from '../errors/index.js';
import type { Tensor } from '../infer/tensor.js';
import { type RegionOutputSource, type RegionTarget, tagRegionView } from './region-io.js';
import { spansOverlap, type RegionSpan } from './region-span.js';
import type { SharedMemoryLease, SharedMemoryService } from './shared-memory-types.js';

/**
 * The shared-memory side of one inference request, for any frontend (HTTP and gRPC decode the
 * `shared_memory_region` / `shared_memory_offset` / `shared_memory_byte_size` parameters into
 * a SharedMemoryRef and hand it here). It holds a lease per tensor so the regions stay mapped
 * until `release()`, which the frontend calls once the response has been written (or the
 * request failed).
 *
 * ```ts
 * const shm = new RequestSharedMemory(core.sharedMemory());
 * try {
 *   input.data = shm.input(ref);             // zero-copy view (system) or host copy (CUDA)
 *   shm.output('OUTPUT0', outRef);           // bounds checked now, written after inference
 *   const response = await core.infer(request);
 *   shm.writeOutputs(response.outputs);      // then encode those outputs without data
 * } finally {
 *   shm.release();
 * }
 * ```
 *
 * System-region inputs are also tagged for direct region I/O (region-io.ts): a backend running
 * the request alone in a worker thread reads them in place there and may claim the outputs to
 * write them in place; `writeOutputs` then finds them already written.
 */

/** Where a tensor's bytes live in a registered region. */
export interface SharedMemoryRef {
  region: string;
  /** Bytes from the region's start; 0 when the request gives none. */
  offset: number;
  byteSize: number;
}

export class RequestSharedMemory implements RegionOutputSource {
  readonly #service: SharedMemoryService | undefined;
  readonly #leases: SharedMemoryLease[] = [];
  readonly #outputs = new Map<string, SharedMemoryLease>();
  readonly #inputSpans: RegionSpan[] = [];
  #claimed = false;

  /** @param service the server's regions; undefined when the server has none. */
  constructor(service: SharedMemoryService | undefined) {
    this.#service = service;
  }

  /**
   * The bytes of an input held in shared memory.
   * @throws NotFoundError / InvalidArgumentError from `SharedMemoryService.acquire` (Triton's
   *   messages), NotFoundError when the server has no shared-memory support.
   */
  input(ref: SharedMemoryRef): Uint8Array {
    const lease = this.#acquire(ref);
    const view = lease.read();
    if (lease.span !== undefined) {
      this.#inputSpans.push(lease.span);
      tagRegionView(view, lease.span, this);
    }
    return view;
  }

  /** Reserves the output `name` to be written into `ref` (same errors as `input`). */
  output(name: string, ref: SharedMemoryRef): void {
    this.#outputs.set(name, this.#acquire(ref));
  }

  /** Whether output `name` goes to shared memory (and so carries no data in the response). */
  hasOutput(name: string): boolean {
    return this.#outputs.has(name);
  }

  /** Outputs reserved with `output`. */
  get outputCount(): number {
    return this.#outputs.size;
  }

  /**
   * The system-region outputs for an execution to write in place (RegionOutputSource): once
   * per request, and only ranges that share no byte with an input of this request or with
   * another output. Triton reads every input before it writes any output, so a client may
   * overlap them; writing in place during the run would then clobber an input still read.
   */
  claimOutputs(): ReadonlyMap<string, RegionTarget> | undefined {
    if (this.#claimed) return undefined;
    this.#claimed = true;
    const targets = new Map<string, RegionTarget>();
    for (const [name, lease] of this.#outputs) {
      const span = lease.span;
      if (span === undefined) continue;
      const clash = (other: RegionSpan): boolean => other !== span && spansOverlap(span, other);
      if (this.#inputSpans.some(clash)) continue;
      if ([...this.#outputs.values()].some((o) => o.span !== undefined && clash(o.span))) continue;
      targets.set(name, { span, view: lease.read() });
    }
    return targets;
  }

  /**
   * Writes every output reserved with `output` into its region (outputs a worker already
   * wrote in place are left as they are), after checking every region this request used: a
   * client that shrank its object during the run had the model read zero pages there (the
   * native SIGBUS guard), so the request fails rather than answer with those.
   * @throws InternalError with Triton's message when an output is larger than its region range;
   *   InvalidArgumentError "shared memory region '<r>' is no longer usable: ..." (lease `check`).
   */
  writeOutputs(outputs: readonly Tensor[]): void {
    for (const lease of this.#leases) lease.check?.();
    if (this.#outputs.size === 0) return;
    const writes = outputs.filter((t) => this.#outputs.has(t.name));
    // An output may itself be a view into a region (written in place under another output's
    // name by an ensemble step, say): snapshot such sources before any write can clobber them.
    const sources = writes.map((t) =>
      writes.length > 1 && this.#inRegion(t.data) && !this.#inPlace(t) ? t.data.slice() : t.data,
    );
    writes.forEach((t, i) => this.#outputs.get(t.name)!.write(sources[i]!, t.name));
  }

  /** Releases every lease. Idempotent. */
  release(): void {
    for (const lease of this.#leases) lease.release();
    this.#leases.length = 0;
    this.#outputs.clear();
    this.#inputSpans.length = 0;
  }

  /** Whether `data` lies in the memory of one of this request's leases. */
  #inRegion(data: Uint8Array): boolean {
    return this.#leases.some((l) => l.span !== undefined && l.read().buffer === data.buffer);
  }

  /** Whether output `t` already is the start of its own (system) output range. */
  #inPlace(t: Tensor): boolean {
    const lease = this.#outputs.get(t.name);
    if (lease?.span === undefined) return false;
    const view = lease.read();
    return view.buffer === t.data.buffer && view.byteOffset === t.data.byteOffset;
  }

  #acquire(ref: SharedMemoryRef): SharedMemoryLease {
    if (this.#service === undefined) throw new NotFoundError(`Unable to find shared memory region: '${ref.region}'`);
    const lease = this.#service.acquire(ref.region, ref.offset, ref.byteSize);
    this.#leases.push(lease);
    return lease;
  }
}
