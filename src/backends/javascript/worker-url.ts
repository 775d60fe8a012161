import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InternalError } from '../../errors/index.js';

/**
 * Where the JavaScript backend's worker script is: `./javascript-worker.js` beside this
 * module once compiled (lib/, the package as shipped). Under vitest this module runs from
 * src/ as TypeScript, which a Worker (a plain Node thread) cannot load, so the compiled copy
 * in lib/ is used, with a warning when it is older than its sources (the same arrangement as
 * the ONNX Runtime backend's worker-script.ts).
 */

const SIBLING = new URL('./javascript-worker.js', import.meta.url);
const COMPILED_FROM_SRC = new URL('../../../lib/backends/javascript/javascript-worker.js', import.meta.url);

let resolved: URL | undefined;

/**
 * The URL to pass to `new Worker`.
 * @throws InternalError when neither the sibling script nor the compiled copy in lib/ exists
 *   (the project was not built).
 */
export function javascriptWorkerUrl(): URL {
  if (resolved !== undefined) return resolved;
  if (existsSync(fileURLToPath(SIBLING))) {
    resolved = SIBLING;
  } else if (existsSync(fileURLToPath(COMPILED_FROM_SRC))) {
    warnIfStale();
    resolved = COMPILED_FROM_SRC;
  } else {
    throw new InternalError(
      `javascript backend: worker script not found at ${fileURLToPath(SIBLING)} or ${fileURLToPath(COMPILED_FROM_SRC)}; run \`npm run build\``,
    );
  }
  return resolved;
}

function warnIfStale(): void {
  const srcDir = fileURLToPath(new URL('.', import.meta.url));
  const libDir = fileURLToPath(new URL('.', COMPILED_FROM_SRC));
  try {
    const stale = readdirSync(srcDir)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
      .filter((f) => {
        const js = libDir + f.replace(/\.ts$/, '.js');
        return !existsSync(js) || statSync(js).mtimeMs < statSync(srcDir + f).mtimeMs;
      });
    if (stale.length > 0) {
      process.emitWarning(
        `javascript backend runs its worker from lib/, which is older than src/ for ${stale.join(', ')}; run \`npx tsc -p tsconfig.json\``,
      );
    }
  } catch {
    // Only a hint for developers.
  }
}
