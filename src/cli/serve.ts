import type { HttpFrontend } from '../protocol/http/index.js';
import { grpcFrontendOptions, type GrpcFlags, type GrpcFrontend } from '../protocol/grpc/index.js';
import { createThreadedGrpcFrontend, createThreadedHttpFrontend, defaultProtocolThreadCount } from '../protocol/threads/threaded-frontends.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { metricsConfigFrom, parseMetricsConfigOption } from '../observability/metrics-config.js';
import { createMetricsService, type MetricsService } from '../observability/metrics-service.js';
import { traceOptionsFromFlags } from '../observability/trace-config.js';
import { parseRestrictedApiOption, type RestrictedApis } from '../protocol/http/restricted-api.js';
import { compileHeaderForwardPattern } from '../protocol/header-forward.js';
import { InferenceServer } from '../server.js';
import { responseCacheSize } from '../cache/cache-config.js';
import { formatModelTable } from './model-table.js';
import { startupBanner, type BannerInput } from './banner.js';
import { parseCudaMemoryPoolByteSize } from '../memory/index.js';
import { parseMemoryBudget } from '../repository/memory-budget.js';

/** The source name of this module's log lines (see createLogger). */
const SRC = { src: 'serve.ts' } as const;

/** Parsed `infera serve` flags (tritonserver names, reference §5). */
export interface ServeOptions extends GrpcFlags {
  modelRepository: string[];
  httpPort: number;
  httpAddress: string;
  allowHttp: boolean;
  /** `--allow-console`: the web console and Swagger UI on the HTTP port. */
  allowConsole?: boolean;
  httpMaxInputSize: number;
  /** `--http-thread-count`: HTTP protocol threads (0 or 1 = the main thread; unset: `defaultProtocolThreadCount()`). */
  httpThreadCount?: number;
  /** `--grpc-thread-count`: gRPC protocol threads (0 or 1 = the main thread; unset: `defaultProtocolThreadCount()`). */
  grpcThreadCount?: number;
  httpRequestTimeoutSecs: number;
  httpIdleTimeoutSecs: number;
  /** Unset: the frontend's default, 8 × httpMaxInputSize. */
  httpMaxReceivingSize?: number;
  id: string;
  strictReadiness: boolean;
  exitOnError: boolean;
  exitTimeoutSecs: number;
  disableAutoCompleteConfig: boolean;
  strictModelConfig: boolean;
  modelLoadThreadCount: number;
  modelControlMode: 'none' | 'poll' | 'explicit';
  repositoryPollSecs: number;
  loadModel?: string[];
  /** `--model-memory-budget <bytes|percent>` as given (model paging). */
  modelMemoryBudget?: string;
  modelPagingTimeoutSecs: number;
  modelConfigName?: string;
  modelLoadAllowFileOverride: boolean;
  modelLoadAllowCodeOverride: boolean;
  /** `--cache-config <cache>,<setting>=<value>` values as given. */
  cacheConfig?: string[];
  backendConfig: Record<string, string>;
  logVerbose: number;
  logInfo: boolean;
  logWarning: boolean;
  logError: boolean;
  logFormat: 'default' | 'ISO8601' | 'json';
  logFile?: string;
  /** `--http-restricted-api <apis>:<key>=<value>` as given. */
  httpRestrictedApi?: string[];
  /** `--http-header-forward-pattern <regex>` (unset: nothing is forwarded). */
  httpHeaderForwardPattern?: string;
  allowMetrics: boolean;
  allowCpuMetrics: boolean;
  allowGpuMetrics: boolean;
  /** Default: `httpAddress`. */
  metricsAddress?: string;
  metricsPort: number;
  metricsIntervalMs: number;
  /** `--metrics-config <setting>=<value>` as given. */
  metricsConfig?: string[];
  /** `--trace-config` and the deprecated trace flags as given (see trace-config.ts). */
  traceConfig?: string[];
  traceFile?: string;
  traceLevel?: string[];
  traceRate?: string;
  traceCount?: string;
  traceLogFrequency?: string;
  allowClientShm: boolean;
  pinnedMemoryPoolByteSize: number;
  /** `--cuda-memory-pool-byte-size <gpu>:<bytes>` values as given. */
  cudaMemoryPoolByteSize?: string[];
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
  // Flag errors (e.g. a malformed --grpc-restricted-protocol) must stop start-up before models load.
  const grpcOptions = opts.allowGrpc ? grpcFrontendOptions(opts, logger) : undefined;
  let restrictedApis: RestrictedApis = new Map();
  for (const arg of opts.httpRestrictedApi ?? []) restrictedApis = parseRestrictedApiOption(arg, restrictedApis);
  const httpHeaderForward =
    opts.httpHeaderForwardPattern !== undefined ? compileHeaderForwardPattern('http-header-forward-pattern', opts.httpHeaderForwardPattern) : undefined;
  const metricsConfig = metricsConfigFrom((opts.metricsConfig ?? []).map(parseMetricsConfigOption), (m) => logger.error(m));
  const trace = traceOptionsFromFlags(opts, (m) => logger.warn(m));
  const responseCacheByteSize = responseCacheSize(opts.cacheConfig);
  const maxBatch = opts.backendConfig['onnxruntime.default-max-batch-size'];
  const server = await InferenceServer.create({
    modelRepositories: opts.modelRepository,
    id: opts.id,
    strictReadiness: opts.strictReadiness,
    disableAutoCompleteConfig: opts.disableAutoCompleteConfig || opts.strictModelConfig,
    modelLoadThreadCount: opts.modelLoadThreadCount,
    exitTimeoutSecs: opts.exitTimeoutSecs,
    modelControlMode: opts.modelControlMode,
    repositoryPollSecs: opts.repositoryPollSecs,
    loadModels: opts.loadModel,
    modelMemoryBudgetBytes: opts.modelMemoryBudget !== undefined ? parseMemoryBudget(opts.modelMemoryBudget) : undefined,
    modelPagingTimeoutSecs: opts.modelPagingTimeoutSecs,
    modelConfigName: opts.modelConfigName,
    modelLoadAllowFileOverride: opts.modelLoadAllowFileOverride,
    modelLoadAllowCodeOverride: opts.modelLoadAllowCodeOverride,
    responseCacheByteSize,
    defaultMaxBatchSize: maxBatch !== undefined ? Number(maxBatch) : undefined,
    logger,
    metricsConfig,
    allowMetrics: opts.allowMetrics,
    trace,
    allowClientShm: opts.allowClientShm,
    pinnedMemoryPoolByteSize: opts.pinnedMemoryPoolByteSize,
    cudaMemoryPoolByteSize: new Map((opts.cudaMemoryPoolByteSize ?? []).map((v) => {
      const { device, byteSize } = parseCudaMemoryPoolByteSize(v);
      return [device, byteSize];
    })),
  });
  // Printed unescaped, with the blank lines around it that Triton's LOG_TABLE_INFO gives.
  logger.info({ ...SRC, verbatim: true }, `\n${formatModelTable(server.modelIndex())}\n`);

  const failures = server.failures();
  if (failures.length > 0 && opts.exitOnError) {
    for (const f of failures) {
      logger.error(SRC, `failed to load '${f.name}'${f.version !== undefined ? ` version ${f.version}` : ''}: ${f.reason}`);
    }
    logger.error(SRC, 'error: creating server: Internal - failed to load all models');
    await server.close();
    await exit(logger, 1);
    return;
  }

  // gRPC starts before HTTP, as in tritonserver, so its line is logged when HTTP's appears.
  let grpc: GrpcFrontend | undefined;
  const banner: BannerInput = { version: server.serverMetadata().version, models: server.modelIndex().filter((r) => r.state === 'READY').map((r) => r.name) };
  if (grpcOptions !== undefined) {
    grpc = createThreadedGrpcFrontend(server, { ...grpcOptions, threadCount: opts.grpcThreadCount ?? defaultProtocolThreadCount() });
    const bound = (banner.grpc = await grpc.listen());
    logger.info(SRC, `Started GRPCInferenceService at ${bound.address}:${bound.port}`);
  }

  let http: HttpFrontend | undefined;
  if (opts.allowHttp) {
    http = createThreadedHttpFrontend(server, {
      threadCount: opts.httpThreadCount ?? defaultProtocolThreadCount(),
      address: opts.httpAddress,
      port: opts.httpPort,
      maxInputSize: opts.httpMaxInputSize,
      requestTimeoutMs: opts.httpRequestTimeoutSecs * 1000,
      idleTimeoutMs: opts.httpIdleTimeoutSecs * 1000,
      maxReceivingSize: opts.httpMaxReceivingSize,
      logger,
      restrictedApis,
      headerForwardPattern: httpHeaderForward,
      console: opts.allowConsole ?? true,
    });
    const bound = (banner.http = await http.listen());
    logger.info(SRC, `Started HTTPService at ${bound.address}:${bound.port}`);
  }

  let metrics: MetricsService | undefined;
  if (opts.allowMetrics) {
    if (opts.allowCpuMetrics) await server.metrics.startCpuMetrics(opts.metricsIntervalMs, (m) => logger.warn(m));
    metrics = createMetricsService(server.metrics, {
      address: opts.metricsAddress ?? opts.httpAddress,
      port: opts.metricsPort,
      onError: (err) => logger.error({ err }, 'metrics request failed'),
    });
    const bound = (banner.metrics = await metrics.listen());
    logger.info(SRC, `Started Metrics Service at ${bound.address}:${bound.port}`);
  }
  logger.info(SRC, `\n${startupBanner(banner)}`);

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info(SRC, `Received ${signal}, stopping: waiting up to ${opts.exitTimeoutSecs} s for in-flight requests`);
    const timeoutMs = opts.exitTimeoutSecs * 1000;
    const deadline = Date.now() + timeoutMs;
    await Promise.all([http?.close({ timeoutMs }), grpc?.close({ timeoutMs }), metrics?.close()]);
    // As tritonserver: in-flight work gets --exit-timeout-secs in all, then the process exits
    // even if an execution is still running (a stuck model must not keep the server alive).
    const closed = await Promise.race([
      server.close().then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), Math.max(0, deadline - Date.now())).unref()),
    ]);
    if (!closed) logger.warn(SRC, `exit timeout of ${opts.exitTimeoutSecs} s reached with requests still executing; exiting`);
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
