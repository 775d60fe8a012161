import { makeModelSpec } from './infer/model-spec.js';
import type { ModelRepositoryManager } from './repository/model-repository-manager.js';
import type { ModelVersion } from './repository/model-version.js';
import type { ReadyModel } from './server-types.js';

/**
 * What `ServerCore.model` answers, with model paging on, for a model of the repositories that
 * is not loaded. The protocols look a request's model up before its body (Triton's
 * `CheckTransactionPolicy`), but a paged-out model can only be looked up once its request has
 * paged it in. So the handle is provisional: its version is not READY, the request pipeline
 * does not trust it and looks the model up again after the page-in.
 *
 * - A model loaded before: its last version's spec and transaction policy (a decoupled one is
 *   still refused by HTTP infer, and gRPC streams it).
 * - A model never loaded: no inputs and not decoupled. A raw binary HTTP request (one without
 *   the inference header, whose input the spec names) to it is refused with the raw-request
 *   error; requests with the header page it in.
 * @param version the requested version; undefined = the latest.
 * @throws the lookup errors of `getReady` for a model in no repository.
 */
export function pagedOutModel(repository: ModelRepositoryManager, name: string, version: number | undefined): ReadyModel {
  let last: ModelVersion | undefined;
  try {
    for (const mv of repository.entry(name).versions.values()) {
      if (mv.spec === undefined || (version !== undefined && mv.version !== version)) continue;
      if (last === undefined || mv.version > last.version) last = mv;
    }
  } catch {
    // Never loaded: the model lifecycle does not know it yet.
  }
  if (last !== undefined) {
    return Object.freeze({ name, version: last.version, spec: last.spec!, decoupled: last.config?.modelTransactionPolicy?.decoupled === true });
  }
  if (!repository.inRepository(name)) repository.getReady(name, version);
  return Object.freeze({ name, version: version ?? -1, spec: makeModelSpec(name, version ?? -1, 0, [], []), decoupled: false });
}
