/**
 * `-u` as `infera perf` uses it: a base URL for HTTP (`http://host:port`) or `host:port` for
 * gRPC, with perf_analyzer's defaults (localhost:8000 for HTTP, localhost:8001 for gRPC).
 */
export function normalizeUrl(url: string | undefined, protocol: 'http' | 'grpc'): string {
  const given = url === undefined || url === '' ? (protocol === 'http' ? 'localhost:8000' : 'localhost:8001') : url;
  if (protocol === 'grpc') return given.replace(/^(grpcs?|https?):\/\//, '').replace(/\/+$/, '');
  return (/^https?:\/\//.test(given) ? given : `http://${given}`).replace(/\/+$/, '');
}
