import { workerScriptUrl } from '../worker-script-url.js';

/**
 * The JavaScript backend's worker script, `javascript-worker.js` beside this module once
 * compiled (see backends/worker-script-url.ts for how it is found when running from src/).
 * @throws InternalError when the project was not built.
 */
export function javascriptWorkerUrl(): URL {
  return workerScriptUrl(import.meta.url, 'javascript-worker.js', 'javascript');
}
