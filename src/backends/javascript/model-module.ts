import { pathToFileURL } from 'node:url';
import { InvalidArgumentError } from '../../errors/index.js';
import type { JavaScriptModelClass } from './model-api.js';

/**
 * Imports a model file and finds its model class: the default export, or a named export
 * `Model` (a CommonJS `module.exports = class ...` is the default export; `exports.Model`
 * is found as well). `.js` files follow Node's module rules (CommonJS unless the nearest
 * package.json says `"type": "module"`); `.mjs` files are always ES modules.
 * @throws InvalidArgumentError naming the model and the file when the import fails (syntax
 *   error, a throw at top level, a missing dependency) or nothing exported is a class with an
 *   `execute` method.
 */
export async function loadModelClass(modelFile: string, modelName: string): Promise<JavaScriptModelClass> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(modelFile).href)) as Record<string, unknown>;
  } catch (err) {
    throw new InvalidArgumentError(`model '${modelName}': failed to load '${modelFile}': ${errorText(err)}`, { cause: err });
  }
  const def = mod['default'] as Record<string, unknown> | undefined;
  const candidates = [def, mod['Model'], typeof def === 'object' && def !== null ? def['Model'] : undefined];
  const found = candidates.find(isModelClass);
  if (found === undefined) {
    throw new InvalidArgumentError(
      `model '${modelName}': '${modelFile}' must export a model class with an execute(requests) method, as its default export or as 'Model'`,
    );
  }
  return found;
}

function isModelClass(v: unknown): v is JavaScriptModelClass {
  return typeof v === 'function' && typeof (v as { prototype?: { execute?: unknown } }).prototype?.execute === 'function';
}

/** `Name: message` of a thrown value (or its string form when it is not an Error). */
export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
