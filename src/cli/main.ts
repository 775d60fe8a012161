import { Command, Option } from 'commander';
import { collect, collectBackendConfig, parseBool, parseNonNegativeInt, parsePort } from './flags.js';
import { serve, type ServeOptions } from './serve.js';

function addServeFlags(cmd: Command): Command {
  return cmd
    .option('--model-repository <path>', 'model repository folder (repeatable)', collect)
    .addOption(new Option('--model-store <path>', 'alias of --model-repository').argParser(collect).hideHelp())
    .option('--http-port <port>', 'HTTP/REST port', parsePort, 8000)
    .option('--http-address <address>', 'address the HTTP server binds', '0.0.0.0')
    .option('--allow-http [bool]', 'serve HTTP/REST', parseBool, true)
    .option('--http-max-input-size <bytes>', 'largest HTTP request body, also after decompression', parseNonNegativeInt, 64 * 1024 * 1024)
    .option('--id <name>', 'server name reported in server metadata', 'triton')
    .option('--strict-readiness [bool]', 'ready only when every model is ready', parseBool, true)
    .option('--exit-on-error [bool]', 'exit with code 1 when a model fails to load', parseBool, true)
    .option('--exit-timeout-secs <secs>', 'on SIGINT/SIGTERM, wait this long for in-flight requests', parseNonNegativeInt, 30)
    .option('--disable-auto-complete-config', 'use config.pbtxt as written (no auto-complete)', false)
    .option('--strict-model-config [bool]', 'deprecated: true = --disable-auto-complete-config', parseBool, false)
    .option('--model-load-thread-count <n>', 'models loaded in parallel', parseNonNegativeInt, 4)
    .option('--backend-config <backend,key=value>', 'backend setting, e.g. onnxruntime,default-max-batch-size=8 (repeatable)', collectBackendConfig)
    .option('--log-verbose <level>', 'verbose logging level (0 = off)', parseNonNegativeInt, 0)
    .option('--log-info [bool]', 'log info messages', parseBool, true)
    .option('--log-warning [bool]', 'log warnings', parseBool, true)
    .option('--log-error [bool]', 'log errors', parseBool, true)
    .addOption(new Option('--log-format <format>', 'log line format').choices(['default', 'ISO8601', 'json']).default('default'))
    .option('--log-file <path>', 'write the log to this file instead of stdout');
}

function toServeOptions(raw: Record<string, unknown>): ServeOptions {
  const repos = [...((raw.modelRepository as string[]) ?? []), ...((raw.modelStore as string[]) ?? [])];
  if (repos.length === 0) {
    throw new Error('--model-repository must be specified (e.g. infera --model-repository ./examples/model_repository)');
  }
  return { ...(raw as unknown as ServeOptions), modelRepository: repos, backendConfig: (raw.backendConfig as Record<string, string>) ?? {} };
}

/** Builds the `infera` command line: `serve` (the default), with tritonserver's flags. */
export function buildProgram(): Command {
  const program = new Command('infera')
    .description('A Triton-compatible inference server for Node.js (KServe v2 over HTTP, ONNX Runtime)')
    .showHelpAfterError()
    .addHelpText('after', '\n`infera` alone runs `infera serve`; `infera serve --help` lists the server flags (tritonserver names).');
  addServeFlags(
    program
      .command('serve', { isDefault: true })
      .description('serve one or more model repositories (accepts tritonserver flags)'),
  ).action(async (raw: Record<string, unknown>, cmd: Command) => {
    try {
      await serve(toServeOptions(raw));
    } catch (err) {
      cmd.error(`error: ${(err as Error).message}`, { exitCode: 1 });
    }
  });
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  await buildProgram().parseAsync(argv);
}
