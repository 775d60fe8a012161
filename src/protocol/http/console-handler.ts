import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerCore } from '../../server-types.js';
import { METHOD_NOT_ALLOWED } from './handlers.js';
import { sendErrorMessage, sendJsonText } from './response-writer.js';
import type { Route } from './router.js';
import { consoleAssets, serveStaticAsset } from './static-assets.js';

/**
 * The web console (infera's own; Triton has no UI): `GET /console/` and its files
 * (static-assets.ts), plus two small endpoints the page reads besides the KServe v2 API:
 *
 *   GET /console/server.json  `{"model_control_mode": "none"|"poll"|"explicit"}`
 *   GET /console/metrics      the Prometheus text of the metrics endpoint (which listens on its
 *                             own port, out of the page's origin), for the latency quantiles
 *                             of `--metrics-config summary_latencies=true`.
 *
 * The page itself calls the KServe v2 routes (repository index, config, statistics, infer,
 * load/unload), each under its own API group's restriction.
 */
export async function handleConsole(core: ServerCore, req: IncomingMessage, res: ServerResponse, route: Extract<Route, { kind: 'console' }>): Promise<void> {
  switch (route.file) {
    case 'server.json':
      if (req.method !== 'GET') return sendErrorMessage(res, 405, METHOD_NOT_ALLOWED);
      return sendJsonText(res, 200, JSON.stringify({ model_control_mode: core.modelControlMode() }));
    case 'metrics': {
      if (req.method !== 'GET') return sendErrorMessage(res, 405, METHOD_NOT_ALLOWED);
      const text = await core.metricsText();
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
      res.end(text);
      return;
    }
    default:
      return serveStaticAsset(req, res, consoleAssets(), route.file, 'console');
  }
}
