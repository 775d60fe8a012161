/**
 * The lines `infera serve` prints once every listener is bound: where each endpoint really is
 * (ports 0 resolved to the ones bound) and one request to try.
 */

/** A bound listener, as the frontends' `listen()` resolve it. */
export interface BoundAddress {
  address: string;
  port: number;
}

export interface BannerInput {
  version: string;
  http?: BoundAddress;
  grpc?: BoundAddress;
  metrics?: BoundAddress;
  /** READY models, in model-table order: the example request's target is `simple` (Triton's quick-start model) when served, else the first. */
  models: readonly string[];
}

/** A wildcard bind is reached as localhost; an IPv6 address goes in brackets in a URL. */
function host({ address }: BoundAddress): string {
  if (address === '0.0.0.0' || address === '::' || address === '') return 'localhost';
  return address.includes(':') ? `[${address}]` : address;
}

/** The banner text, several lines without a trailing newline. */
export function startupBanner(b: BannerInput): string {
  const lines = [`infera ${b.version} is ready`];
  const http = b.http !== undefined ? `http://${host(b.http)}:${b.http.port}` : undefined;
  if (http !== undefined) lines.push(`  HTTP     ${http}  (KServe v2 REST)`);
  if (b.grpc !== undefined) lines.push(`  gRPC     ${host(b.grpc)}:${b.grpc.port}  (KServe v2 gRPC)`);
  if (b.metrics !== undefined) lines.push(`  metrics  http://${host(b.metrics)}:${b.metrics.port}/metrics`);
  if (http !== undefined) {
    const model = b.models.includes('simple') ? 'simple' : b.models[0];
    lines.push(model !== undefined ? `Try: curl ${http}/v2/models/${encodeURIComponent(model)}` : `Try: curl -i ${http}/v2/health/ready`);
  }
  return lines.join('\n');
}
