import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InternalError } from '../errors/index.js';

const resolved = new Map<string, URL>();

/**
 * Where a backend's worker-thread script is, for `new Worker(url)`.
 *
 * Workers are TypeScript like the rest and tsc compiles them next to the module that starts
 * them, so from lib/ (the package as shipped, or `npm run build`) the script is the sibling
 * `<fileName>`. Under vitest that module runs from src/ as TypeScript, but a Worker is a plain
 * Node thread: Node 20 cannot load `.ts`, and vitest's transform does not reach inside it. So
 * from src/ the compiled copy in lib/ is used (`npm test` builds first), with a warning when a
 * source file of that folder is newer than its compiled copy (the worker would run stale code).
 *
 * @param moduleUrl `import.meta.url` of the module that starts the worker.
 * @param fileName the compiled script's file name, e.g. `onnxruntime-worker.js`.
 * @param backend backend name, for messages.
 * @throws InternalError when neither the sibling nor the compiled copy in lib/ exists (the
 *   project was not built).
 */
export function workerScriptUrl(moduleUrl: string, fileName: string, backend: string): URL {
  const key = `${moduleUrl}#${fileName}`;
  const known = resolved.get(key);
  if (known !== undefined) return known;
  const sibling = new URL(`./${fileName}`, moduleUrl);
  const srcDir = new URL('.', moduleUrl).href;
  const at = srcDir.lastIndexOf('/src/');
  const compiled = at < 0 ? undefined : new URL(`${srcDir.slice(0, at)}/lib/${srcDir.slice(at + 5)}${fileName}`);
  let url: URL;
  if (existsSync(fileURLToPath(sibling))) {
    url = sibling;
  } else if (compiled !== undefined && existsSync(fileURLToPath(compiled))) {
    warnIfStale(new URL('.', moduleUrl), new URL('.', compiled), backend);
    url = compiled;
  } else {
    throw new InternalError(
      `${backend} backend: worker script not found at ${fileURLToPath(sibling)}` +
        `${compiled ? ` or ${fileURLToPath(compiled)}` : ''}; run \`npm run build\``,
    );
  }
  resolved.set(key, url);
  return url;
}

function warnIfStale(srcDirUrl: URL, libDirUrl: URL, backend: string): void {
  const srcDir = fileURLToPath(srcDirUrl);
  const libDir = fileURLToPath(libDirUrl);
  try {
    const stale = readdirSync(srcDir)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
      .filter((f) => {
        const js = libDir + f.replace(/\.ts$/, '.js');
        return !existsSync(js) || statSync(js).mtimeMs < statSync(srcDir + f).mtimeMs;
      });
    if (stale.length > 0) {
      process.emitWarning(
        `${backend} backend runs its worker from lib/, which is older than src/ for ${stale.join(', ')}; ` +
          'run `npx tsc -p tsconfig.json`',
      );
    }
  } catch {
    // Only a hint for developers; an unreadable folder must not stop a load.
  }
}
