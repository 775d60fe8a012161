import type { IncomingMessage, ServerResponse } from 'node:http';
import { METHOD_NOT_ALLOWED } from './handlers.js';
import { openApiText } from './openapi-document.js';
import { sendErrorMessage, sendJsonText } from './response-writer.js';
import type { Route } from './router.js';
import { apiDocsAssets, serveStaticAsset } from './static-assets.js';

/**
 * The API's documentation (infera's own): `GET /v2/openapi.json`, the OpenAPI 3.1 document
 * (openapi-document.ts), and `GET /v2/docs/`, Swagger UI reading it (static-assets.ts).
 */
export function handleApiDocs(req: IncomingMessage, res: ServerResponse, route: Extract<Route, { kind: 'openapi' | 'api-docs' }>): void {
  if (route.kind === 'api-docs') return serveStaticAsset(req, res, apiDocsAssets(), route.file, 'docs');
  if (req.method !== 'GET') return sendErrorMessage(res, 405, METHOD_NOT_ALLOWED);
  sendJsonText(res, 200, openApiText());
}
