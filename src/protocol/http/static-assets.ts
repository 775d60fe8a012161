import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { METHOD_NOT_ALLOWED } from './handlers.js';
import { sendErrorMessage } from './response-writer.js';

/**
 * The files of the browser UIs (the console and Swagger UI): a fixed table from URL file name to
 * a file shipped in the package, so that no request path is ever joined onto a directory (no
 * traversal, no listing). Files are read on first request and kept; they do not change while
 * the server runs (a new version of the package is a new process).
 */

/** One servable file: where it lies and the Content-Type it is served with. */
export interface StaticAsset {
  file: string;
  type: string;
}

/** URL file name (as in the route's `file`) to asset. */
export type StaticAssets = ReadonlyMap<string, StaticAsset>;

const requireFrom = createRequire(import.meta.url);
/** The console's own files: `console/` at the package root (this file is lib/protocol/http/ or src/protocol/http/). */
const CONSOLE_DIR = fileURLToPath(new URL('../../../console/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

function asset(file: string): StaticAsset {
  return { file, type: TYPES[path.extname(file)] ?? 'application/octet-stream' };
}

let consoleTable: Map<string, StaticAsset> | undefined;
let docsTable: Map<string, StaticAsset> | undefined;

/**
 * The console's files (console/*.html|js|css) and uPlot (the `uplot` package: its ES module and
 * stylesheet, under `vendor/`).
 */
export function consoleAssets(): StaticAssets {
  if (consoleTable === undefined) {
    consoleTable = new Map<string, StaticAsset>();
    for (const name of CONSOLE_FILES) consoleTable.set(name, asset(path.join(CONSOLE_DIR, name)));
    // Dependencies' files by literal specifier, so that the package test sees them used.
    consoleTable.set('vendor/uPlot.esm.js', asset(requireFrom.resolve('uplot/dist/uPlot.esm.js')));
    consoleTable.set('vendor/uPlot.min.css', asset(requireFrom.resolve('uplot/dist/uPlot.min.css')));
  }
  return consoleTable;
}

/**
 * Swagger UI: infera's page (console/api-docs.html, which points it at `../openapi.json`) and
 * the files of `swagger-ui-dist`. That package stays pinned at 5.17.14 (package.json): later
 * versions depend on @scarf/scarf, whose install script reports the installation to a third
 * party.
 */
export function apiDocsAssets(): StaticAssets {
  if (docsTable === undefined) {
    docsTable = new Map<string, StaticAsset>();
    docsTable.set('index.html', asset(path.join(CONSOLE_DIR, 'api-docs.html')));
    docsTable.set('api-docs.js', asset(path.join(CONSOLE_DIR, 'api-docs.js')));
    for (const name of ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'favicon-32x32.png']) {
      docsTable.set(name, asset(requireFrom.resolve(`swagger-ui-dist/${name}`)));
    }
  }
  return docsTable;
}

/** The console's own files, as shipped in console/. */
export const CONSOLE_FILES = [
  'index.html',
  'console.css',
  'app.js',
  'api.js',
  'models.js',
  'charts.js',
  'metrics.js',
  'try-it.js',
  'tensor-form.js',
  'image-input.js',
  'audio-input.js',
] as const;

const contents = new Map<string, { body: Buffer; etag: string }>();

/**
 * Answers GET (and HEAD) for `file` of `assets`: '' redirects to the directory (`<prefix>/`,
 * relative, so it works under a mount point), a name not in the table is 404 `{"error":"Not
 * Found"}` as any unknown URL, other methods 405. Responses carry an ETag of the content and
 * `no-cache` (the browser revalidates, and gets 304 while the package is the same) and `nosniff`.
 * @throws Error when a listed file is missing from the installation (answered 500).
 */
export function serveStaticAsset(req: IncomingMessage, res: ServerResponse, assets: StaticAssets, file: string, prefixName: string): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendErrorMessage(res, 405, METHOD_NOT_ALLOWED);
  if (file === '') {
    res.writeHead(301, { Location: `${prefixName}/`, 'Content-Length': 0 });
    res.end();
    return;
  }
  const a = assets.get(file);
  if (a === undefined) return sendErrorMessage(res, 404, 'Not Found');
  let content = contents.get(a.file);
  if (content === undefined) {
    const body = readFileSync(a.file);
    content = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
    contents.set(a.file, content);
  }
  const headers = { ETag: content.etag, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' };
  if (req.headers['if-none-match'] === content.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Type': a.type, 'Content-Length': content.body.byteLength });
  res.end(req.method === 'HEAD' ? undefined : content.body);
}
