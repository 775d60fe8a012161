/**
 * Entry of a protocol thread (worker_threads): one HTTP or gRPC server listening on the fd the
 * core thread bound for it (SO_REUSEPORT, shared port), serving infer requests through
 * `RemoteInfer` and forwarding everything else to the core thread's own frontend. Driven by
 * protocol-threads.ts over `parentPort`: `{t:'close', timeoutMs}` drains and closes the server,
 * then it posts `{t:'closed'}`. Log lines go to the core thread's logger (`{t:'log'}`).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { startGrpcThreadServer } from './grpc-thread.js';
import { startHttpThreadServer } from './http-thread.js';
import { RemoteInfer } from './remote-infer.js';
import type { ProtocolThreadData, ThreadLogger } from './thread-config.js';
import { toWireError } from './wire.js';

type Level = 'debug' | 'info' | 'warn' | 'error';

const port = parentPort!;
const data = workerData as ProtocolThreadData;

const log = (level: Level) => (obj: object, msg?: string): void => {
  const err = (obj as { err?: unknown }).err;
  const fields = err === undefined ? obj : { ...obj, err: toWireError(err) };
  port.postMessage({ t: 'log', level, obj: fields, msg });
};
const logger: ThreadLogger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };

const remote = new RemoteInfer(port);
const server =
  data.kind === 'http' ? startHttpThreadServer(data.fd, data.config, remote, logger) : startGrpcThreadServer(data.fd, data.config, remote, logger);

port.on('message', (message: { t: string; timeoutMs?: number }) => {
  if (message.t !== 'close') return;
  void server.close(message.timeoutMs ?? 0).then(() => port.postMessage({ t: 'closed' }));
});

server.listening.then(
  () => port.postMessage({ t: 'ready' }),
  (err: unknown) => port.postMessage({ t: 'failed', error: toWireError(err) }),
);
