/** State of one model version, Triton's ModelReadyState names. */
export type ModelReadyState = 'UNKNOWN' | 'READY' | 'UNAVAILABLE' | 'LOADING' | 'UNLOADING';

/** One entry of the repository index (reference §1.5 `RepositoryIndex`). */
export interface ModelIndexEntry {
  name: string;
  version?: string;
  state?: ModelReadyState;
  reason?: string;
}
