import { createRequire } from 'node:module';
import type { ServerMetadata } from './server-types.js';

const pkg = createRequire(import.meta.url)('../package.json') as { version: string };

/**
 * Extensions reported in server metadata: only what is implemented (reference §1.2).
 * `parameters` = request/response parameters are accepted and passed through.
 */
const EXTENSIONS = [
  'classification',
  'sequence',
  'model_repository',
  'model_repository(unload_dependents)',
  'schedule_policy',
  'model_configuration',
  'system_shared_memory',
  'cuda_shared_memory',
  'binary_tensor_data',
  'parameters',
  'statistics',
  'trace',
  'logging',
];

/**
 * The server metadata response (KServe v2 `GET /v2`, gRPC ServerMetadata): `name` is the
 * server id (`--id`, Triton's default 'triton'), `version` the package version, `extensions`
 * what infera implements.
 */
export function serverMetadataOf(id: string): ServerMetadata {
  return { name: id, version: pkg.version, extensions: [...EXTENSIONS] };
}
