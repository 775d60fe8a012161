/**
 * The shipped prebuild (`npm run native:prebuild`, made by `npm pack`) loads on x86_64 Linux
 * with glibc >= 2.28 (Debian 10/11, Ubuntu 20.04, RHEL 8/9, Amazon Linux 2023): its dynamic
 * symbol table may ask for no GLIBC_ version above 2.28, for no libstdc++ at all (GLIBCXX_,
 * CXXABI_: libstdc++ is linked in) and for no libgcc_s version newer than GCC 8 ships
 * (GCC_7.0.0), no function that glibc kept outside libc, libpthread and libdl before 2.34, and
 * it names only system libraries every glibc has.
 *
 * Builds the prebuild (incrementally, in build/prebuild) when CMake and a C++ compiler are
 * here, then reads it with objdump.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const prebuild = path.join(root, 'prebuilds', 'linux-x64', 'infera.napi.glibc.node');

const has = (cmd: string, args: string[]): boolean => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const skipReason =
  process.platform !== 'linux' || process.arch !== 'x64'
    ? 'linux-x64 is the platform that ships a prebuild'
    : !has('cmake', ['--version'])
      ? 'CMake is not installed'
      : !has('c++', ['--version'])
        ? 'no C++ compiler (c++)'
        : !has('objdump', ['--version'])
          ? 'objdump (binutils) is not installed'
          : undefined;

/** "2.28" > "2.3.4"? Dotted versions compared numerically, part by part. */
function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Every `<prefix>_<version>` the file's dynamic symbols need, with the symbols needing it. */
function neededVersions(dynamicSymbols: string, prefix: string): Map<string, string[]> {
  const versions = new Map<string, string[]>();
  for (const line of dynamicSymbols.split('\n')) {
    if (!line.includes('*UND*')) continue;
    const m = new RegExp(`\\(?${prefix}_([0-9.]+)\\)?\\s+(\\S+)$`).exec(line.trim());
    if (m) versions.set(m[1]!, [...(versions.get(m[1]!) ?? []), m[2]!]);
  }
  return versions;
}

describe.skipIf(skipReason !== undefined)(`prebuild portability${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let symbols = '';
  let dynamic = '';

  beforeAll(() => {
    execFileSync(process.execPath, [path.join(root, 'scripts', 'prebuild-native.mjs')], { cwd: root, stdio: 'pipe' });
    symbols = execFileSync('objdump', ['-T', prebuild], { encoding: 'utf8' });
    dynamic = execFileSync('objdump', ['-p', prebuild], { encoding: 'utf8' });
  }, 300_000);

  it('needs no glibc symbol version newer than 2.28', () => {
    const tooNew = [...neededVersions(symbols, 'GLIBC')].filter(([v]) => compareVersions(v, '2.28') > 0);
    expect(tooNew.map(([v, syms]) => `GLIBC_${v}: ${syms.join(', ')}`)).toEqual([]);
  });

  it('needs no libstdc++ (it is linked in) and no libgcc_s newer than GCC 8 has', () => {
    expect([...neededVersions(symbols, 'GLIBCXX').keys(), ...neededVersions(symbols, 'CXXABI').keys()]).toEqual([]);
    const tooNew = [...neededVersions(symbols, 'GCC')].filter(([v]) => compareVersions(v, '7.0.0') > 0);
    expect(tooNew.map(([v, syms]) => `GCC_${v}: ${syms.join(', ')}`)).toEqual([]);
  });

  it('needs no function that lived in librt, libanl or libutil before glibc 2.34 (Node.js does not link them)', () => {
    // Bound to libc.so.6 at link time, such a symbol is not found on glibc < 2.30, whose loader
    // stops at the recorded provider (glibc_compat.cc implements shm_open/shm_unlink instead).
    const undefinedNames = symbols
      .split('\n')
      .filter((l) => l.includes('*UND*'))
      .map((l) => l.trim().split(/\s+/).pop()!);
    expect(undefinedNames.filter((n) => /^(shm_|mq_|timer_|aio_|lio_listio|getaddrinfo_a|gai_|openpty|forkpty|login|logout)/.test(n))).toEqual([]);
  });

  it('links only libraries every glibc system has', () => {
    const needed = [...dynamic.matchAll(/^\s*NEEDED\s+(\S+)$/gm)].map((m) => m[1]!);
    expect(needed.filter((lib) => !/^(libc|libm|libdl|libpthread|librt|libgcc_s)\.so\.\d+$|^ld-linux-x86-64\.so\.2$/.test(lib))).toEqual([]);
  });
});
