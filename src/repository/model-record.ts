import { ModelEntry } from './model-version.js';
import type { ModelTimestamp } from './model-timestamp.js';

/**
 * What the repository manager remembers about one model besides its versions (the ModelEntry):
 * which files and config the serving versions came from, the poll bookkeeping, and how the
 * model relates to others. Triton keeps the same facts in `ModelInfo` and its dependency graph.
 */
export class ModelRecord {
  readonly entry: ModelEntry;
  /** Timestamp of the files the serving versions were loaded from; undefined when none serve. */
  stamp: ModelTimestamp | undefined;
  /** Poll mode: signature of files whose load failed; not retried until the files change. */
  failedSignature: string | undefined;
  /** The serving config or files came from a load request, so a plain load reloads from disk. */
  overridden = false;
  /** Loaded by name (explicit mode) or by poll/none, not only as an ensemble's composing model. */
  explicit = false;
  /** Models the serving config's ensemble steps name. */
  upstreams: string[] = [];
  /** Temporary folder of the `file:` override the versions serve from. */
  tempRoot: string | undefined;
  /**
   * A load got past reading the config (Triton's model lifecycle knows the model): only then
   * does the model count for strict readiness (`InferenceServer::IsReady`).
   */
  inLifecycle = false;

  constructor(name: string, dir: string) {
    this.entry = new ModelEntry(name, dir);
  }

  get name(): string {
    return this.entry.name;
  }

  /** At least one version is READY. */
  get serving(): boolean {
    return this.entry.latestReady() !== undefined;
  }
}
