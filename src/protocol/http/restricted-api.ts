import type { IncomingMessage } from 'node:http';
import type { Route } from './router.js';

/** Triton's API groups (server `restricted_features.h`, `RESTRICTED_CATEGORY_NAMES`). */
export const RESTRICTED_API_GROUPS = [
  'health',
  'metadata',
  'inference',
  'shared-memory',
  'model-config',
  'model-repository',
  'statistics',
  'trace',
  'logging',
] as const;

/** One of RESTRICTED_API_GROUPS. */
export type RestrictedApiGroup = (typeof RESTRICTED_API_GROUPS)[number];

/** The header a restricted group requires: name (matched case-insensitively) and exact value. */
export interface Restriction {
  header: string;
  value: string;
}

/** Restricted groups and their headers, from `--http-restricted-api` (reference §1.1). */
export type RestrictedApis = ReadonlyMap<RestrictedApiGroup, Restriction>;

/**
 * Adds one `--http-restricted-api <groups>:<key>=<value>` to `previous` (server
 * `ParseRestrictedFeatureOption`): `<groups>` is a comma-separated list of API groups.
 * @throws Error with Triton's messages: "--http-restricted-api option format is '<config
 *   name>:<setting>=<value>'. Got <arg>", "unknown restricted api '<g>'", "restricted api
 *   '<g>' can not be specified in multiple config groups".
 */
export function parseRestrictedApiOption(arg: string, previous: RestrictedApis = new Map()): Map<RestrictedApiGroup, Restriction> {
  const colon = arg.indexOf(':');
  const eq = colon < 0 ? -1 : arg.indexOf('=', colon + 1);
  const groups = colon < 0 ? '' : arg.slice(0, colon);
  const header = eq < 0 ? '' : arg.slice(colon + 1, eq);
  const value = eq < 0 ? '' : arg.slice(eq + 1);
  if (groups === '' || header === '' || value === '') {
    throw new Error(`--http-restricted-api option format is '<config name>:<setting>=<value>'. Got ${arg}`);
  }
  const out = new Map(previous);
  for (const group of groups.split(',')) {
    if (!(RESTRICTED_API_GROUPS as readonly string[]).includes(group)) throw new Error(`unknown restricted api '${group}'`);
    const g = group as RestrictedApiGroup;
    if (out.has(g)) throw new Error(`restricted api '${g}' can not be specified in multiple config groups`);
    out.set(g, { header, value });
  }
  return out;
}

/**
 * The API group of a route, as Triton's handlers check it (`RETURN_AND_RESPOND_IF_RESTRICTED`
 * in `http_server.cc`): model ready belongs to health, model metadata to metadata, generate
 * to inference.
 */
export function routeApiGroup(route: Route): RestrictedApiGroup {
  switch (route.kind) {
    case 'health':
      return 'health';
    case 'server-metadata':
    // The UIs and the API document say what the server serves, as metadata does; restricting
    // `metadata` restricts them too (a browser must then send the header, e.g. via a proxy).
    case 'openapi':
    case 'api-docs':
    case 'console':
      return 'metadata';
    case 'stats-all':
      return 'statistics';
    case 'logging':
      return 'logging';
    case 'trace':
      return 'trace';
    case 'shared-memory':
      return 'shared-memory';
    case 'repository-index':
    case 'repository-control':
      return 'model-repository';
    case 'model':
      switch (route.action) {
        case 'metadata':
          return 'metadata';
        case 'ready':
          return 'health';
        case 'config':
          return 'model-config';
        case 'stats':
          return 'statistics';
        case 'trace':
          return 'trace';
        default:
          return 'inference';
      }
  }
}

/**
 * The 403 message for a request to a restricted group that lacks the header or carries
 * another value (server `RespondIfRestricted`): "This API is restricted, expecting header
 * '<key>'"; undefined when the request may proceed. Checked before the method, as in Triton.
 */
export function restrictionError(restricted: RestrictedApis, route: Route, req: IncomingMessage): string | undefined {
  if (restricted.size === 0) return undefined;
  const r = restricted.get(routeApiGroup(route));
  if (r === undefined) return undefined;
  const actual = req.headers[r.header.toLowerCase()];
  const value = Array.isArray(actual) ? actual[0] : actual;
  return value === r.value ? undefined : `This API is restricted, expecting header '${r.header}'`;
}
