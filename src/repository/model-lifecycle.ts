import { equals } from '@bufbuild/protobuf';
import { toTritonError } from '../errors/index.js';
import { ModelConfigSchema } from '../generated/model_config_pb.js';
import type { Logger } from '../observability/logger.js';
import type { Limiter } from './limiter.js';
import { instanceCount, isEnsembleConfig, resolveVersion, startEnsembleVersion, startVersion, type LoaderOptions } from './model-loader.js';
import type { ModelSource } from './model-source.js';
import type { ModelTimestamp } from './model-timestamp.js';
import { ModelVersion, type ModelEntry } from './model-version.js';

/**
 * One model's load, in Triton's model-lifecycle terms (core `ModelLifeCycle::AsyncLoad`,
 * `OnLoadFinal`):
 *
 * - A version that is READY keeps serving while its replacement loads *in the background*;
 *   the replacement takes its place only when every version of the load has started, and the
 *   old one is then unloaded (its in-flight requests finish first). So a changed model never
 *   stops serving, and a failed reload leaves the old versions serving.
 * - A version that is not serving (new, failed, unloaded) loads *in the foreground*: the index
 *   shows it LOADING, then READY or UNAVAILABLE with the reason.
 * - A READY version whose files did not change and whose resolved config is the same is kept
 *   as it is (Triton updates such a version in place instead of reloading it).
 * - When every version started, the versions the policy no longer selects are unloaded.
 *   When any failed, the versions this load started are unloaded again and the load fails
 *   with Triton's reason text: "version <v> is at UNAVAILABLE state: <reason>;" per version.
 */
export interface VersionPlan {
  entry: ModelEntry;
  source: ModelSource;
  /** Versions this load starts; `background` ones replace a READY version at commit. */
  fresh: { mv: ModelVersion; background: boolean }[];
  /** READY versions kept unchanged. */
  kept: ModelVersion[];
  /** A model-level failure: nothing is started and nothing changes. */
  failure?: string;
}

/** Instances the plan's versions start (for the default intra-op thread count). */
export function planInstances(plan: VersionPlan): number {
  return plan.fresh.reduce((n, f) => n + (f.mv.state === 'LOADING' ? instanceCount(f.mv.config!) : 0), 0);
}

/**
 * Resolves (auto-completes and validates) every version `source` selects and decides which
 * are kept, which load in the background and which in the foreground. Foreground versions
 * enter `entry.versions` at once (LOADING, or UNAVAILABLE when resolving failed).
 * @param previous timestamp of the files the serving versions came from; undefined forces
 *   every version to reload (after a config or file override, or when nothing serves).
 */
export async function planVersions(
  entry: ModelEntry,
  source: ModelSource,
  previous: ModelTimestamp | undefined,
  opts: LoaderOptions,
): Promise<VersionPlan> {
  const plan: VersionPlan = { entry, source, fresh: [], kept: [] };
  if (source.versions.length === 0) {
    plan.failure = `at least one version must be available under the version policy of model '${entry.name}'`;
    return plan;
  }
  const resolved = await Promise.all(
    source.versions.map(async (v) => {
      const mv = new ModelVersion(entry.name, v, opts.unloadTimeoutMs);
      try {
        await resolveVersion(mv, source.dir, source.config, opts);
      } catch (err) {
        mv.fail(toTritonError(err).message);
      }
      return mv;
    }),
  );
  for (const mv of resolved) {
    const serving = entry.versions.get(mv.version);
    const isServing = serving?.state === 'READY';
    if (
      isServing &&
      mv.state === 'LOADING' &&
      previous !== undefined &&
      !previous.isVersionModified(source.stamp, mv.version) &&
      equals(ModelConfigSchema, serving.config!, mv.config!)
    ) {
      plan.kept.push(serving);
      continue;
    }
    plan.fresh.push({ mv, background: isServing });
    if (!isServing) entry.versions.set(mv.version, mv);
  }
  return plan;
}

/**
 * Starts the plan's resolved versions, each through `limiter` (`--model-load-thread-count`).
 * Failures are recorded on the version (UNAVAILABLE with the reason), never thrown.
 * @param intraOpThreads default intra-op threads per instance (see `startVersion`).
 */
export async function startPlan(plan: VersionPlan, intraOpThreads: number, limiter: Limiter, opts: LoaderOptions): Promise<void> {
  if (plan.failure !== undefined) return;
  await Promise.all(
    plan.fresh.map(async ({ mv }) => {
      if (mv.state !== 'LOADING') return;
      await limiter.run(async () => {
        opts.logger.info({ src: 'model-lifecycle.ts' }, `loading: ${mv.name}:${mv.version}`);
        try {
          if (isEnsembleConfig(mv.config!)) startEnsembleVersion(mv, plan.source.dir, opts);
          else await startVersion(mv, plan.source.dir, opts.backends.get(mv.config!.backend, mv.name), intraOpThreads, opts.logger);
          opts.logger.info({ src: 'model-lifecycle.ts' }, `successfully loaded '${mv.name}' version ${mv.version}`);
        } catch (err) {
          mv.fail(toTritonError(err).message);
          opts.logger.error({ src: 'model-lifecycle.ts', model: mv.name, version: mv.version }, `failed to load '${mv.name}' version ${mv.version}: ${mv.reason}`);
        }
      });
    }),
  );
}

/**
 * Finishes the load: on success marks the new versions READY, swaps background versions in
 * and unloads what they replace and what the policy dropped (waiting for their in-flight
 * requests); on failure unloads what this load started.
 * @returns '' on success, else the reason (Triton's LoadTracker text, or the model-level
 *   failure).
 */
export async function commitPlan(plan: VersionPlan, logger: Logger): Promise<string> {
  const { entry } = plan;
  if (plan.failure !== undefined) return plan.failure;
  const failed = plan.fresh.filter((f) => f.mv.state !== 'LOADING');
  if (failed.length > 0) {
    await Promise.allSettled(plan.fresh.filter((f) => f.mv.state === 'LOADING').map((f) => f.mv.unload()));
    logger.info(`failed to load '${entry.name}'`);
    return failed
      .sort((a, b) => a.mv.version - b.mv.version)
      .map((f) => `version ${f.mv.version} is at UNAVAILABLE state: ${f.mv.reason};`)
      .join('');
  }

  const retired: ModelVersion[] = [];
  for (const { mv, background } of plan.fresh) {
    mv.state = 'READY';
    mv.reason = '';
    if (background) {
      const old = entry.versions.get(mv.version);
      if (old !== undefined && old !== mv) retired.push(old);
      entry.versions.set(mv.version, mv);
    }
  }
  const wanted = new Set(plan.source.versions);
  for (const [v, mv] of entry.versions) {
    if (wanted.has(v)) continue;
    // A version the policy dropped: a READY one drains; a failed one is marked unloaded too,
    // so an old failure does not keep the server unready after a good reload.
    retired.push(mv);
  }
  await Promise.allSettled(retired.map((mv) => mv.unload()));
  if (plan.fresh.length > 0) logger.info(`successfully loaded '${entry.name}'`);
  return '';
}
