import type { Metadata } from '@grpc/grpc-js';
import { UnavailableError } from '../../errors/index.js';

/**
 * Restricted protocols (`--grpc-restricted-protocol=<protocols>:<key>=<value>`, reference §2.3,
 * §5; Triton `restricted_features.h`, `ParseRestrictedFeatureOption`, `CommonCallData::
 * ExecutePrecondition`): each RPC belongs to one protocol group; a restricted group's RPCs
 * need the request header `triton-grpc-protocol-<key>` with exactly `<value>`, and are
 * answered UNAVAILABLE otherwise.
 */

/** The protocol groups, with Triton's names. */
export const RESTRICTED_PROTOCOLS = [
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

export type RestrictedProtocol = (typeof RESTRICTED_PROTOCOLS)[number];

/** The header a restricted group requires and the value it must carry. */
export interface Restriction {
  /** Full header name, `triton-grpc-protocol-<key>` (lower case, as HTTP/2 carries it). */
  header: string;
  value: string;
}

export type RestrictedProtocols = Partial<Record<RestrictedProtocol, Restriction>>;

/** Triton's `kRestrictedProtocolHeaderTemplate`. */
export const RESTRICTED_PROTOCOL_HEADER_PREFIX = 'triton-grpc-protocol-';

/**
 * Parses every `--grpc-restricted-protocol` value.
 * @param values e.g. `["model-repository,statistics:admin-key=secret"]`
 * @throws Error with Triton's messages: "--grpc-restricted-protocol option format is
 *   '<config name>:<setting>=<value>'. Got <v>" for a malformed value, "unknown restricted
 *   protocol '<p>'" and "restricted protocol '<p>' can not be specified in multiple config
 *   groups".
 */
export function parseRestrictedProtocols(values: readonly string[]): RestrictedProtocols {
  const out: RestrictedProtocols = {};
  for (const value of values) {
    const colon = value.indexOf(':');
    const equals = colon < 0 ? -1 : value.indexOf('=', colon + 1);
    const protocols = colon < 0 ? '' : value.slice(0, colon);
    const key = equals < 0 ? '' : value.slice(colon + 1, equals);
    const expected = equals < 0 ? '' : value.slice(equals + 1);
    if (protocols === '' || key === '' || expected === '') {
      throw new Error(`--grpc-restricted-protocol option format is '<config name>:<setting>=<value>'. Got ${value}`);
    }
    for (const name of protocols.split(',')) {
      if (!(RESTRICTED_PROTOCOLS as readonly string[]).includes(name)) {
        throw new Error(`unknown restricted protocol '${name}'`);
      }
      const protocol = name as RestrictedProtocol;
      if (out[protocol] !== undefined) {
        throw new Error(`restricted protocol '${protocol}' can not be specified in multiple config groups`);
      }
      // HTTP/2 header names are lower case on the wire, so a mixed-case key could never match.
      out[protocol] = { header: RESTRICTED_PROTOCOL_HEADER_PREFIX + key.toLowerCase(), value: expected };
    }
  }
  return out;
}

/**
 * The error for a call to a restricted group without the right header; undefined when the
 * group is not restricted or the header matches (the first value of the header counts).
 * @returns UnavailableError "This protocol is restricted, expecting header '<header>'".
 */
export function restrictionError(
  restrictions: RestrictedProtocols,
  protocol: RestrictedProtocol,
  metadata: Metadata,
): UnavailableError | undefined {
  const restriction = restrictions[protocol];
  if (restriction === undefined) return undefined;
  const values = metadata.get(restriction.header);
  const first = values[0];
  const actual = typeof first === 'string' ? first : first?.toString('utf8');
  if (actual === restriction.value) return undefined;
  return new UnavailableError(`This protocol is restricted, expecting header '${restriction.header}'`);
}
