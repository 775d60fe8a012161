/**
 * The message of a failed addon load: what went wrong, then the likely causes and their fixes,
 * chosen from the loader's error text (in the manner of sharp's loader). Pure, so it is tested
 * on canned errors.
 */

interface Diagnosis {
  test: RegExp;
  cause: string;
  fix: string;
}

const DIAGNOSES: readonly Diagnosis[] = [
  {
    test: /No native build was found/,
    cause: 'no build of the addon for this platform: neither build/Release/infera.node nor a matching prebuilds/<platform>-<arch>/ entry',
    fix: 'run `npm run build:native` in the infera folder (needs CMake >= 3.18, a C++17 compiler and the build-only packages cmake-js and node-addon-api, whose install command it prints when they are missing; CUDA and TensorRT are optional), or use a release of infera that ships a prebuild for this platform',
  },
  {
    test: /GLIBC_[0-9.]+' not found|GLIBCXX_[0-9.]+' not found|CXXABI_[0-9.]+' not found/,
    cause: 'the prebuilt addon needs a newer glibc or libstdc++ than this system has',
    fix: 'build it here with `npm run build:native`, or upgrade the system C/C++ runtime',
  },
  {
    test: /libnvinfer[^:]*: cannot open shared object file/,
    cause: 'the addon was built with TensorRT, but the TensorRT libraries are not on this machine',
    fix: 'install TensorRT (or add its lib folder to LD_LIBRARY_PATH), or rebuild without it: `npm run build:native -- --CDINFERA_TENSORRT=OFF`',
  },
  {
    test: /cannot open shared object file/,
    cause: 'a shared library the addon links against is missing',
    fix: 'install the library named above, or rebuild with `npm run build:native`',
  },
  {
    test: /ERR_DLOPEN_DISABLED|--no-addons/,
    cause: 'Node.js was started with --no-addons, which forbids native addons',
    fix: 'start Node.js without --no-addons',
  },
  {
    test: /ABI version is/,
    cause: 'the addon comes from another version of infera (a stale build or prebuild)',
    fix: 'rebuild it with `npm run build:native`',
  },
  {
    test: /invalid ELF header|wrong ELF class|cannot be opened on this architecture/,
    cause: 'the addon was built for another platform or architecture',
    fix: 'delete build/ and run `npm run build:native` on this machine',
  },
  {
    test: /Module did not self-register|NODE_MODULE_VERSION/,
    cause: 'the addon does not match this Node.js',
    fix: 'rebuild it with `npm run build:native`',
  },
];

/**
 * @param file the .node file that was tried, if the loader got that far
 * @param err what the loader threw
 * @returns "infera's native addon could not be loaded (<file>): <error>" followed by one
 *   "- cause: ...; fix: ..." line per matching diagnosis (or a generic one), and a line saying
 *   which features need the addon.
 */
export function describeLoadFailure(file: string | undefined, err: unknown): string {
  const text = err instanceof Error ? `${err.message}${codeOf(err)}` : String(err);
  const firstLine = text.split('\n')[0]!.trim();
  const matches = DIAGNOSES.filter((d) => d.test.test(text));
  const lines = matches.length > 0
    ? matches.slice(0, 2).map((d) => `  - ${d.cause}; fix: ${d.fix}`)
    : ['  - an unexpected load failure; fix: rebuild with `npm run build:native` and check the error above'];
  return (
    `infera's native addon could not be loaded${file !== undefined ? ` (${file})` : ''}: ${firstLine}\n` +
    `Likely causes:\n${lines.join('\n')}\n` +
    'Without it, system/CUDA shared memory, the pinned and CUDA memory pools and TensorRT are unavailable; everything else works.'
  );
}

function codeOf(err: Error): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? ` (${code})` : '';
}
