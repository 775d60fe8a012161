import { createHttpFrontend, type HttpFrontend } from '../protocol/http/index.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { InferenceServer } from '../server.js';
import { formatModelTable } from './model-table.js';

/** Parsed `infera serve` flags (tritonserver names, reference §5). */
export interface ServeOptions {
  modelRepository: string[];
  httpPort: number;
  httpAddress: string;
  allowHttp: boolean;
  httpMaxInputSize: number;
  id: string;
  strictReadiness: boolean;
  exitOnError: boolean;
  exitTimeoutSecs: number;
  disableAutoCompleteConfig: boolean;
  strictModelConfig: boolean;
  modelLoadThreadCount: number;
  backendConfig: Record<string, string>;
  logVerbose: number;
  logInfo: boolean;
  logWarning: boolean;
  logError: boolean;
  logFormat: 'default' | 'ISO8601' | 'json';
  logFile?: string;
}

/**
 * Runs the server until SIGINT/SIGTERM. Start-up: load the repositories, print the model
 * table; with `--exit-on-error=true` any model that failed to load ends the process with code 1
 * after printing the reasons. Shutdown: stop accepting, let in-flight requests finish for up to
 * `--exit-timeout-secs`, release the models, exit 0.
 */
export async function serve(opts: ServeOptions): Promise<void> {
  const logger = createLogger({
    verbose: opts.logVerbose,
    info: opts.logInfo,
    warning: opts.logWarning,
    error: opts.logError,
    format: opts.logFormat,
    file: opts.logFile,
  });
  const maxBatch = opts.backendConfig['onnxruntime.default-max-batch-size'];
  const server = await InferenceServer.create({
    modelRepositories: opts.modelRepository,
    id: opts.id,
    strictReadiness: opts.strictReadiness,
    disableAutoCompleteConfig: opts.disableAutoCompleteConfig || opts.strictModelConfig,
    modelLoadThreadCount: opts.modelLoadThreadCount,
    defaultMaxBatchSize: maxBatch !== undefined ? Number(maxBatch) : undefined,
    logger,
  });
  logger.info(`\n${formatModelTable(server.modelIndex())}`);

  const failures = server.failures();
  if (failures.length > 0 && opts.exitOnError) {
    for (const f of failures) {
      logger.error(`failed to load '${f.name}'${f.version !== undefined ? ` version ${f.version}` : ''}: ${f.reason}`);
    }
    logger.error('error: creating server: Internal - failed to load all models');
    await server.close();
    await exit(logger, 1);
    return;
  }

  let http: HttpFrontend | undefined;
  if (opts.allowHttp) {
    http = createHttpFrontend(server, {
      address: opts.httpAddress,
      port: opts.httpPort,
      maxInputSize: opts.httpMaxInputSize,
      logger,
    });
    const bound = await http.listen();
    logger.info(`Started HTTPService at ${bound.address}:${bound.port}`);
  }

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info(`Received ${signal}, stopping: waiting up to ${opts.exitTimeoutSecs} s for in-flight requests`);
    await http?.close({ timeoutMs: opts.exitTimeoutSecs * 1000 });
    await server.close();
    await exit(logger, 0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

/** Flushes the (asynchronous) log transport before the process ends. */
async function exit(logger: Logger, code: number): Promise<never> {
  await new Promise<void>((resolve) => {
    logger.flush(() => resolve());
    setTimeout(resolve, 500).unref();
  });
  process.exit(code);
}
