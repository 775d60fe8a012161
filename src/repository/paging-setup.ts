import type { Registry } from 'prom-client';
import { InvalidArgumentError } from '../errors/index.js';
import type { Logger } from '../observability/logger.js';
import { PagingMetrics } from '../observability/paging-metrics.js';
import { ModelPager, type PagingInfo } from './model-paging.js';
import type { ModelRepositoryManager } from './model-repository-manager.js';
import { pagingRepositoryOf } from './paging-repository.js';

/**
 * The model pager of `--model-memory-budget` over `repository`, with its
 * `infera_model_paging_*` metrics registered in `registry`.
 * @param settings the budget in bytes, `--model-paging-timeout-secs`, and the `--load-model`
 *   names (pinned).
 * @throws InvalidArgumentError when the repository is not in explicit model control mode.
 */
export function createModelPager(
  repository: ModelRepositoryManager,
  registry: Registry,
  logger: Logger,
  settings: { budgetBytes: number; timeoutSecs: number; pinned: readonly string[] },
): ModelPager {
  if (repository.controlMode !== 'explicit') {
    throw new InvalidArgumentError('--model-memory-budget requires --model-control-mode=explicit');
  }
  let metrics: PagingMetrics | undefined;
  const pager = new ModelPager(pagingRepositoryOf(repository), {
    budgetBytes: settings.budgetBytes,
    timeoutMs: settings.timeoutSecs * 1000,
    pinned: settings.pinned,
    logger,
    observer: { loaded: (m, s) => metrics?.loaded(m, s), evicted: (m) => metrics?.evicted(m) },
  });
  metrics = new PagingMetrics(registry, pager);
  return pager;
}

/**
 * The `paging` key of a READY repository index row (snake_case, as the rest of the index):
 * what the model's last load measured, its page-in and eviction counts, and whether it is pinned.
 */
export function pagingIndexJson(info: PagingInfo): Record<string, number | boolean> {
  return {
    memory_bytes: info.bytes,
    rss_delta_bytes: info.rssDeltaBytes,
    external_delta_bytes: info.externalDeltaBytes,
    file_bytes: info.fileBytes,
    instances: info.instances,
    per_instance_bytes: info.perInstanceBytes,
    load_ms: Math.round(info.loadMs),
    loads: info.loads,
    evictions: info.evictions,
    pinned: info.pinned,
  };
}
