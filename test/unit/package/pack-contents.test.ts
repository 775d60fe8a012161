/**
 * What `npm pack` would put in the published tarball (package.json "files"): small, no model
 * files placed from other npm packages, no native tests, no source map pointing at a file the
 * tarball lacks, the license text, and runtime dependencies that are exactly what lib/ and bin/
 * import. Runs `npm pack --dry-run --json --ignore-scripts` on the built tree (lib/ from
 * `npm run build`; the prebuild, when there is one, counts towards the budget).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const built = existsSync(path.join(root, 'lib', 'index.js'));

/** Budget for the packed tarball (gzip bytes); about 1 MB today, of which ~0.45 MB is the prebuild. */
const PACKED_BUDGET = 3 * 1024 * 1024;
/** Budget for the unpacked size: what a consumer's node_modules/infera takes. */
const UNPACKED_BUDGET = 10 * 1024 * 1024;

interface PackEntry {
  path: string;
  size: number;
}
interface PackResult {
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: PackEntry[];
}

function dryRunPack(): PackResult {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return (JSON.parse(out) as PackResult[])[0]!;
}

/** The packed paths git ignores (build output, files placed at install time). */
function gitIgnored(paths: string[]): string[] {
  const r = spawnSync('git', ['check-ignore', '--stdin'], { cwd: root, input: paths.join('\n'), encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l !== '');
}

const pack = built ? dryRunPack() : undefined;
const packed = new Set(pack?.files.map((f) => f.path));

describe.skipIf(!built)('npm pack contents (needs `npm run build` first)', () => {
  it('stays within the size budget', () => {
    expect(pack!.size, `packed ${pack!.size} bytes, ${pack!.entryCount} files`).toBeLessThanOrEqual(PACKED_BUDGET);
    expect(pack!.unpackedSize).toBeLessThanOrEqual(UNPACKED_BUDGET);
  });

  it('packs no model file placed from another npm package, and no other git-ignored file but build output', () => {
    const buildOutput = /^(lib|prebuilds|examples\/dist)\//;
    const ignored = gitIgnored([...packed]).filter((p) => !buildOutput.test(p));
    expect(ignored).toEqual([]);
    const models = [...packed].filter((p) => /\.(onnx|plan|pt|safetensors)$/.test(p));
    expect(models.filter((p) => gitIgnored([p]).length > 0)).toEqual([]);
  });

  it('packs no native tests and no development scripts', () => {
    expect([...packed].filter((p) => p.startsWith('native/test/'))).toEqual([]);
    expect([...packed].filter((p) => p.startsWith('scripts/')).sort()).toEqual(['scripts/build-native.mjs', 'scripts/native-common.mjs']);
  });

  it("ships the Python backend's stub and its triton_python_backend_utils, without bytecode caches", () => {
    const stub = [...packed].filter((p) => p.startsWith('python/')).sort();
    expect(stub).toEqual(readdirSync(path.join(root, 'python/infera_python_stub')).filter((f) => f.endsWith('.py')).map((f) => `python/infera_python_stub/${f}`).sort());
    expect(stub).toContain('python/infera_python_stub/stub.py');
    expect(stub).toContain('python/infera_python_stub/triton_python_backend_utils.py');
  });

  it('ships every file a packed source map points to', () => {
    const maps = [...packed].filter((p) => p.endsWith('.map'));
    const dangling: string[] = [];
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(path.join(root, map), 'utf8')) as { sources: string[] };
      for (const source of sources) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(map), source));
        if (!packed.has(target)) dangling.push(`${map} -> ${target}`);
      }
    }
    expect(maps.length).toBeGreaterThan(0);
    expect(dangling).toEqual([]);
  });

  it('ships the web console and the Swagger UI page', () => {
    const consoleFiles = readdirSync(path.join(root, 'console')).map((f) => `console/${f}`);
    expect(consoleFiles).toEqual(expect.arrayContaining(['console/index.html', 'console/app.js', 'console/api-docs.html']));
    expect(consoleFiles.filter((f) => !packed.has(f))).toEqual([]);
  });

  it('ships the full Apache-2.0 license text', () => {
    expect(packed.has('LICENSE')).toBe(true);
    const text = readFileSync(path.join(root, 'LICENSE'), 'utf8');
    expect(text).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    expect(text).toContain('END OF TERMS AND CONDITIONS');
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { license: string };
    expect(pkg.license).toBe('Apache-2.0');
  });
});

/** Bare package names that the JavaScript files under `dir` import or require. */
function importedPackages(dir: string): Set<string> {
  const names = new Set<string>();
  // `import … from 'x'`, `export … from 'x'`, `import 'x'`, `import('x')`, `require('x')`.
  const specifier = /(?:^\s*(?:import|export)\s[^'"]*?\bfrom\s*|^\s*import\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)['"]([^'"./][^'"]*)['"]/gm;
  // Files of a package found with `<require>.resolve('x/file')` (the console's uPlot, Swagger UI).
  const resolved = /\b[rR]equire[a-zA-Z]*\.resolve\s*\(\s*['"`]([^'"`./$][^'"`/$]*)/g;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(js|mjs|cjs)$/.test(e.name)) {
        const text = readFileSync(p, 'utf8');
        for (const m of [...text.matchAll(specifier), ...text.matchAll(resolved)]) {
          const spec = m[1]!;
          if (spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]!)) continue;
          names.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
        }
      }
    }
  };
  walk(dir);
  return names;
}

describe.skipIf(!built)('runtime dependencies (needs `npm run build` first)', () => {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    name: string;
    dependencies: Record<string, string>;
  };
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version: string }>;
  };

  it('are exactly the packages lib/ and bin/ import (build-only and example-only ones are devDependencies)', () => {
    const imported = new Set([...importedPackages(path.join(root, 'lib')), ...importedPackages(path.join(root, 'bin'))]);
    imported.delete(pkg.name);
    expect(Object.keys(pkg.dependencies).sort()).toEqual([...imported].sort());
  });

  it('pin onnxruntime-node to the version CI tests (infera uses its private binding of that version)', () => {
    expect(pkg.dependencies['onnxruntime-node']).toBe(lock.packages['node_modules/onnxruntime-node']!.version);
  });
});
