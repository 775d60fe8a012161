import type { ModelRepositoryManager } from './model-repository-manager.js';
import type { PagingRepository } from './model-paging.js';
import type { ModelVersion } from './model-version.js';

/** The model repository manager as model paging sees it (model-paging.ts `PagingRepository`). */
export function pagingRepositoryOf(manager: ModelRepositoryManager): PagingRepository {
  const readyVersions = (name: string): ModelVersion[] => {
    let versions;
    try {
      versions = manager.entry(name).versions;
    } catch {
      return []; // unknown to the model lifecycle: not loaded
    }
    return [...versions.values()].filter((v) => v.state === 'READY');
  };
  return {
    readyVersions,
    servingModels: () => [...new Set(manager.readyVersions().map((v) => v.name))],
    upstreamsOf: (name) => manager.upstreamsOf(name),
    source: (name) => manager.source(name),
    pageIn: (name) => manager.pageIn(name),
    unload: (name) => manager.unload(name),
  };
}
