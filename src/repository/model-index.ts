/** State of one model version, Triton's ModelReadyState names. */
export type ModelReadyState = 'UNKNOWN' | 'READY' | 'UNAVAILABLE' | 'LOADING' | 'UNLOADING';

/** One entry of the repository index (reference §1.5 `RepositoryIndex`). */
export interface ModelIndexEntry {
  name: string;
  version?: string;
  state?: ModelReadyState;
  reason?: string;
  /**
   * Model paging (infera's own key, HTTP only: Triton's clients keep the keys they know):
   * the memory measured at the model's last load and its page-in counts.
   */
  paging?: Record<string, number | boolean>;
}
