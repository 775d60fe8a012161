import type { RequestRegions } from '../lazy-shared-memory.js';

/** Thrown by `NO_REGIONS` and caught by the protocol thread: the request names a shared-memory region. */
export class NeedsCoreThread extends Error {}

/**
 * Shared-memory regions are registered and mapped on the core thread: a protocol thread
 * forwards a request that names one there, whole. The decoders call `input`/`output` as soon
 * as they meet a region reference, which throws `NeedsCoreThread`.
 */
export const NO_REGIONS: RequestRegions = {
  input(): Uint8Array {
    throw new NeedsCoreThread();
  },
  output(): void {
    throw new NeedsCoreThread();
  },
  hasOutput: () => false,
  writeOutputs(): void {},
  release(): void {},
};
