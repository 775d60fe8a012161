/**
 * Dependency gate (`npm run check:deps`, run by CI): no import cycles between files, and no
 * import up the layers of src/ (see DESIGN.md, Layout). Layers, highest first; a file may
 * import its own layer and any layer below it, never one above.
 */
const layers = [
  // Entry points and the client library: nothing in the server imports them.
  { name: 'entry', path: '^src/(index\\.ts|cli/|perf/|client/)' },
  { name: 'protocol', path: '^src/protocol/' },
  // The server facade, with the response cache it drives.
  { name: 'server', path: '^src/(server[^/]*\\.ts|cache/)' },
  { name: 'repository', path: '^src/repository/' },
  { name: 'scheduler', path: '^src/scheduler/' },
  { name: 'backends', path: '^src/backends/' },
  // Model config and metrics/statistics/tracing serve the repository, schedulers and backends.
  { name: 'config-observability', path: '^src/(config|observability)/' },
  { name: 'infer-memory-native', path: '^src/(infer|memory|native)/' },
  { name: 'errors-generated', path: '^src/(errors|generated)/' },
];

const upwardRules = layers.slice(1).map((layer, i) => ({
  name: `no-upward-from-${layer.name}`,
  comment: `${layer.name} must not import a higher layer (${layers
    .slice(0, i + 1)
    .map((l) => l.name)
    .join(', ')})`,
  severity: 'error',
  from: { path: layer.path },
  to: { path: layers.slice(0, i + 1).map((l) => `(${l.path})`).join('|') },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Files must not import each other in a cycle.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...upwardRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a type imported from a higher layer is a dependency too.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
