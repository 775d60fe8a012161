import { parseMemoryBudget } from '../repository/memory-budget.js';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Command, InvalidArgumentError as CommanderInvalidArgument, Option } from 'commander';
import { collect, collectBackendConfig, parseBool, parseInteger, parseNonNegativeInt, parsePort } from './flags.js';
import { serve, type ServeOptions } from './serve.js';
import { addPerfCommand } from './perf.js';
import { addAnalyzeCommand } from './analyze.js';
import { parseCompressionLevel } from '../protocol/grpc/index.js';
import { defaultProtocolThreadCount } from '../protocol/threads/threaded-frontends.js';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

function addServeFlags(cmd: Command): Command {
  return cmd
    .option('--model-repository <path>', 'model repository folder (repeatable)', collect)
    .addOption(new Option('--model-store <path>', 'alias of --model-repository').argParser(collect).hideHelp())
    .option('--http-port <port>', 'HTTP/REST port', parsePort, 8000)
    .option('--http-address <address>', 'address the HTTP server binds', '0.0.0.0')
    .option('--allow-http [bool]', 'serve HTTP/REST', parseBool, true)
    .option('--allow-console [bool]', 'serve the web console at /console/ and Swagger UI at /v2/docs/ on the HTTP port', parseBool, true)
    .option('--http-header-forward-pattern <regex>', 'headers whose names match (case-insensitive) become string request parameters')
    .option('--http-max-input-size <bytes>', 'largest HTTP request body, also after decompression', parseInteger, 64 * 1024 * 1024)
    .option('--http-request-timeout-secs <secs>', 'a whole HTTP request (headers and body) must arrive within this (0 = no limit)', parseNonNegativeInt, 300)
    .option('--http-idle-timeout-secs <secs>', 'an HTTP request body that stops arriving for this long is answered 408 (0 = no limit)', parseNonNegativeInt, 30)
    .option('--http-max-receiving-size <bytes>', 'memory all HTTP request bodies being received may hold (default 8 x --http-max-input-size; 0 = no cap)', parseNonNegativeInt)
    .option('--http-thread-count <n>', 'threads that receive, decode and encode HTTP requests (0 or 1 = the main thread; default: half the CPUs, at most 4, none below 4 CPUs)', parseNonNegativeInt)
    .option('--allow-grpc [bool]', 'serve gRPC', parseBool, true)
    .option('--grpc-thread-count <n>', 'threads that receive, decode and encode gRPC requests (0 or 1 = the main thread; default: half the CPUs, at most 4, none below 4 CPUs)', parseNonNegativeInt)
    .option('--grpc-port <port>', 'gRPC port', parsePort, 8001)
    .option('--grpc-address <address>', 'address the gRPC server binds', '0.0.0.0')
    .option('--grpc-keepalive-time <ms>', 'ms between keepalive pings the server sends', parseNonNegativeInt, 7_200_000)
    .option('--grpc-keepalive-timeout <ms>', 'ms to wait for a keepalive ping acknowledgement', parseNonNegativeInt, 20_000)
    .option('--grpc-keepalive-permit-without-calls [bool]', 'keepalive pings also without calls (not enforced)', parseBool, false)
    .option('--grpc-http2-max-pings-without-data <n>', 'HTTP/2 pings without data (not enforced)', parseNonNegativeInt, 2)
    .option('--grpc-http2-min-recv-ping-interval-without-data <ms>', 'min ping interval (not enforced)', parseNonNegativeInt, 300_000)
    .option('--grpc-http2-max-ping-strikes <n>', 'bad pings tolerated (not enforced)', parseNonNegativeInt, 2)
    .option('--grpc-max-connection-age <ms>', 'longest a connection may live', parseNonNegativeInt)
    .option('--grpc-max-connection-age-grace <ms>', 'grace period after the max connection age', parseNonNegativeInt)
    .option('--grpc-use-ssl [bool]', 'serve gRPC over TLS', parseBool, false)
    .option('--grpc-use-ssl-mutual [bool]', 'TLS that requires a client certificate (implies --grpc-use-ssl)', parseBool, false)
    .option('--grpc-server-cert <path>', 'PEM server certificate for --grpc-use-ssl')
    .option('--grpc-server-key <path>', 'PEM server key for --grpc-use-ssl')
    .option('--grpc-root-cert <path>', 'PEM root certificate that signs client certificates')
    .option('--grpc-infer-response-compression-level <level>', 'none|low|medium|high (not supported: logged)', parseGrpcCompression, 'none')
    .option('--grpc-max-input-size <bytes>', 'largest size a compressed gRPC message may inflate to', parseGrpcMaxInputSize, 64 * 1024 * 1024)
    .option('--grpc-restricted-protocol <protocols:key=value>', 'require header triton-grpc-protocol-<key> (repeatable)', collect)
    .option('--grpc-header-forward-pattern <regex>', 'metadata whose names match (case-insensitive) become string request parameters')
    .option('--id <name>', 'server name reported in server metadata', 'triton')
    .option('--strict-readiness [bool]', 'ready only when every model is ready', parseBool, true)
    .option('--exit-on-error [bool]', 'exit with code 1 when a model fails to load', parseBool, true)
    .option('--exit-timeout-secs <secs>', 'on SIGINT/SIGTERM, wait this long for in-flight requests', parseNonNegativeInt, 30)
    .option('--disable-auto-complete-config', 'use config.pbtxt as written (no auto-complete)', false)
    .option('--strict-model-config [bool]', 'deprecated: true = --disable-auto-complete-config', parseBool, false)
    .option('--model-load-thread-count <n>', 'models loaded in parallel', parseNonNegativeInt, 4)
    .option('--model-control-mode <mode>', 'none, poll (watch the repositories) or explicit (load API)', parseControlMode, 'none')
    .option('--repository-poll-secs <secs>', 'poll mode: seconds between repository polls', parseNonNegativeInt, 15)
    .option('--load-model <name>', "explicit mode: model to load at start-up (repeatable; '*' alone = all)", collect)
    .option('--model-memory-budget <bytes|percent>', 'explicit mode: turn model paging on, loading models on demand and unloading the least recently used idle ones to keep loaded models under this memory (bytes, 512Mi, 2Gi, or 50% of RAM)')
    .option('--model-paging-timeout-secs <secs>', 'model paging: how long a request waits for its model to be paged in', parseNonNegativeInt, 30)
    .option('--model-config-name <name>', 'use <model>/configs/<name>.pbtxt where it exists instead of config.pbtxt')
    .option('--model-load-allow-file-override [bool]', "accept 'file:' model files in load requests (off: CVE-2023-31036)", parseBool, false)
    .option('--model-load-allow-code-override [bool]', "also accept 'file:' overrides that carry code (JavaScript models): clients could run code as the server's user", parseBool, false)
    .option('--backend-config <backend,key=value>', 'backend setting, e.g. onnxruntime,default-max-batch-size=8 (repeatable)', collectBackendConfig)
    .option('--cache-config <cache,key=value>', 'response cache, e.g. local,size=1048576 (bytes; repeatable)', collect)
    .option('--log-verbose <level>', 'verbose logging level (0 = off)', parseNonNegativeInt, 0)
    .option('--log-info [bool]', 'log info messages', parseBool, true)
    .option('--log-warning [bool]', 'log warnings', parseBool, true)
    .option('--log-error [bool]', 'log errors', parseBool, true)
    .addOption(new Option('--log-format <format>', 'log line format').choices(['default', 'ISO8601', 'json']).default('default'))
    .option('--log-file <path>', 'append the log (every level) to this file instead of stdout/stderr')
    .option('--http-restricted-api <apis:key=value>', 'API groups that need the header key: value (repeatable)', collect)
    .option('--allow-metrics [bool]', 'serve Prometheus metrics', parseBool, true)
    .option('--allow-cpu-metrics [bool]', 'report CPU utilization and memory', parseBool, true)
    .option('--allow-gpu-metrics [bool]', 'accepted for compatibility; infera reports no GPU metrics', parseBool, true)
    .option('--metrics-address <address>', 'address the metrics server binds (default: --http-address)')
    .option('--metrics-port <port>', 'metrics port', parsePort, 8002)
    .option('--metrics-interval-ms <ms>', 'ms between CPU metric samples', parseNonNegativeInt, 2000)
    .option('--metrics-config <setting=value>', 'counter_latencies, histogram_latencies, summary_latencies, summary_quantiles (repeatable)', collect)
    .option('--trace-config <[mode,]setting=value>', 'level, rate, count, triton,file=..., triton,log-frequency=... (repeatable)', collect)
    .option('--trace-file <path>', 'deprecated: --trace-config triton,file=<path>')
    .option('--trace-level <level>', 'deprecated: --trace-config level=<OFF|TIMESTAMPS|TENSORS> (repeatable)', collect)
    .option('--trace-rate <n>', 'deprecated: --trace-config rate=<n>')
    .option('--trace-count <n>', 'deprecated: --trace-config count=<n>')
    .option('--trace-log-frequency <n>', 'deprecated: --trace-config triton,log-frequency=<n>')
    .option('--allow-client-shm [bool]', 'let clients register system/CUDA shared memory regions', parseBool, false)
    .option('--pinned-memory-pool-byte-size <bytes>', 'pinned host memory pool for batch buffers (0 = none)', parseNonNegativeInt, 268_435_456)
    .option('--cuda-memory-pool-byte-size <gpu:bytes>', 'CUDA memory pool of a GPU, default 64 MiB each (repeatable)', collect);
}

/** tritonserver lower-cases the mode before matching it. */
function parseControlMode(value: string): string {
  const mode = value.toLowerCase();
  if (mode !== 'none' && mode !== 'poll' && mode !== 'explicit') {
    throw new CommanderInvalidArgument('invalid argument for --model-control-mode (none, poll or explicit)');
  }
  return mode;
}

/** `--grpc-infer-response-compression-level`, case-insensitive as in tritonserver. */
function parseGrpcCompression(value: string): string {
  try {
    return parseCompressionLevel(value);
  } catch (err) {
    throw new CommanderInvalidArgument((err as Error).message);
  }
}

/**
 * `--grpc-max-input-size`: a positive byte count (tritonserver's rule and wording for
 * `--http-max-input-size`, which it has no gRPC twin of).
 */
function parseGrpcMaxInputSize(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new CommanderInvalidArgument(`expected an integer, got '${value}'`);
  if (n <= 0) throw new CommanderInvalidArgument('Error: --grpc-max-input-size must be greater than 0.');
  return n;
}

function toServeOptions(raw: Record<string, unknown>): ServeOptions {
  const repos = [...((raw.modelRepository as string[]) ?? []), ...((raw.modelStore as string[]) ?? [])];
  if (repos.length === 0) {
    throw new Error('--model-repository must be specified (e.g. infera --model-repository ./examples/model_repository)');
  }
  // tritonserver's post-parse checks (command_line_parser.cc), in its words.
  if ((raw.httpMaxInputSize as number) <= 0) throw new Error('Error: --http-max-input-size must be greater than 0.');
  if (raw.loadModel !== undefined && raw.modelControlMode !== 'explicit') {
    throw new Error("Use of '--load-model' requires setting '--model-control-mode=explicit' as well.");
  }
  if (raw.modelMemoryBudget !== undefined && raw.modelControlMode !== 'explicit') {
    throw new Error("Use of '--model-memory-budget' requires setting '--model-control-mode=explicit' as well.");
  }
  if (raw.modelMemoryBudget !== undefined) parseMemoryBudget(raw.modelMemoryBudget as string);
  if (raw.modelConfigName === '') throw new Error('empty argument for --model-config-name');
  for (const repo of repos) checkRepositoryFolder(repo);
  if (raw.modelControlMode === 'poll' && raw.repositoryPollSecs === 0) {
    throw new Error('--repository-poll-secs must be greater than 0 with --model-control-mode=poll');
  }
  return { ...(raw as unknown as ServeOptions), modelRepository: repos, backendConfig: (raw.backendConfig as Record<string, string>) ?? {} };
}

/**
 * tritonserver's warnings for the deprecated `--strict-model-config` (command_line_parser.cc),
 * word for word: one whenever the flag is given, and one more when `--strict-model-config=false`
 * meets `--disable-auto-complete-config`, which wins.
 * @param given whether `--strict-model-config` was on the command line.
 */
export function strictModelConfigWarnings(raw: Record<string, unknown>, given: boolean): string[] {
  if (!given) return [];
  const out = ["Warning: '--strict-model-config' has been deprecated! Please use '--disable-auto-complete-config' instead."];
  if (raw.disableAutoCompleteConfig === true && raw.strictModelConfig === false) {
    out.push("Warning: Overriding deprecated '--strict-model-config' from False to True in favor of '--disable-auto-complete-config'!");
  }
  return out;
}

/**
 * A model repository given on the command line must be an existing folder: said in one line
 * here rather than as the file-system error of the first scan.
 * @throws Error "model repository '<path>' does not exist" / "... is not a folder"
 */
function checkRepositoryFolder(repo: string): void {
  let isFolder: boolean;
  try {
    isFolder = statSync(repo).isDirectory();
  } catch {
    throw new Error(`model repository '${repo}' does not exist (--model-repository takes the folder holding <model>/config.pbtxt)`);
  }
  if (!isFolder) throw new Error(`model repository '${repo}' is not a folder`);
}

/** Builds the `infera` command line: `serve` (the default), with tritonserver's flags. */
export function buildProgram(): Command {
  const program = new Command('infera')
    .description('A Triton-compatible inference server for Node.js (KServe v2 over HTTP, ONNX Runtime)')
    .version(pkg.version, '-v, --version', 'print the version of infera')
    // A usage mistake gets one line and this hint, not the whole flag list.
    .showHelpAfterError('(run `infera --help` or `infera serve --help` for the flags)')
    .addHelpText('after', '\n`infera` alone runs `infera serve`; `infera serve --help` lists the server flags (tritonserver names).');
  addServeFlags(
    program
      .command('serve', { isDefault: true })
      .description('serve one or more model repositories (accepts tritonserver flags)'),
  ).action(async (raw: Record<string, unknown>, cmd: Command) => {
    for (const w of strictModelConfigWarnings(raw, cmd.getOptionValueSource('strictModelConfig') === 'cli')) {
      process.stderr.write(`${w}\n`);
    }
    try {
      await serve(toServeOptions(raw));
    } catch (err) {
      // A start-up failure (missing repository, port in use), not a usage error: the message
      // alone, without the flag help. Messages quoted from tritonserver may carry its own
      // "Error: " prefix.
      const message = (err as Error).message;
      process.stderr.write(`${message.startsWith('Error: ') ? message : `error: ${message}`}\n`);
      process.exit(1);
    }
  });
  addPerfCommand(program);
  addAnalyzeCommand(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  await buildProgram().parseAsync(argv);
}
