#!/usr/bin/env node
// Serves one model repository over HTTP with the compiled engine (lib/), for bench/sequence/run.mjs:
// prints `port <n>` once listening, exits on SIGTERM.
import { InferenceServer } from '../../lib/index.js';
import { createHttpFrontend } from '../../lib/protocol/http/index.js';

const [repo] = process.argv.slice(2);
const server = await InferenceServer.create({ modelRepositories: [repo] });
const failed = server.failures();
if (failed.length > 0) {
  console.error(JSON.stringify(failed));
  process.exit(1);
}
const http = createHttpFrontend(server, { address: '127.0.0.1', port: 0 });
const { port } = await http.listen();
console.log(`port ${port}`);
process.on('SIGTERM', async () => {
  await http.close({ timeoutMs: 1000 });
  await server.close();
  process.exit(0);
});
