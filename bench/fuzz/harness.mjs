// The fuzz harness: starts the built server on free ports with the fuzz repository, registers
// a client shared-memory region, sends `count` cases per protocol (or until `seconds` pass),
// a few at a time, and classifies every answer. Used by the quick test in `npm test`
// (test/e2e/fuzz.test.ts) and the long run (bench/fuzz/run.mjs).
//
// Classification (per case):
//   crash       the server process exited; the cases in flight are recorded and the server is
//               restarted so that the run goes on
//   hang        no answer within `hangMs` (10 s): HTTP, neither a response nor a closed
//               connection after the request was sent and the socket half-closed; gRPC, the
//               call's deadline passed
//   unexpected  HTTP 5xx other than 501, or gRPC UNKNOWN/INTERNAL/DATA_LOSS/UNAVAILABLE,
//               whose message is not one of EXPECTED_SERVER_ERRORS (errors Triton itself
//               answers with INTERNAL). 501 is Triton's UNSUPPORTED (e.g. "Unsupported
//               compression type"), a refusal of the request. UNAVAILABLE from a live server
//               means the connection failed under the call.
//   handled     any other answer: a 2xx/4xx response, a gRPC status, or a connection the server
//               closed on a request it could not parse (node:http's 400 for a malformed one)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { ROOT } from '../lib/models.mjs';
import { SHM_BYTES, SHM_REGION, writeFuzzRepo } from './fuzz-repo.mjs';
import { grpcCase } from './grpc-cases.mjs';
import { httpCase } from './http-cases.mjs';

/**
 * Server errors that are legitimate answers to a bad request, as Triton gives them: the
 * request was wrong but Triton's code for the case is INTERNAL (HTTP 500), or grpc-js could
 * not decode the message (as C++ gRPC, INTERNAL). Each entry: [pattern, why].
 */
export const EXPECTED_SERVER_ERRORS = [
  [/^Error deserializing request/, 'grpc-js: the bytes are not a valid message (C++ gRPC answers INTERNAL too)'],
  [/should be at least \d+ bytes to hold the results/, "Triton's INTERNAL for a shared-memory output range too small"],
  [/^Unable to open shared memory region/, "Triton's INTERNAL for a key that does not exist"],
];

const GRPC_UNEXPECTED = new Set([2 /* UNKNOWN */, 13 /* INTERNAL */, 14 /* UNAVAILABLE */, 15 /* DATA_LOSS */]);
const GRPC_CODES = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];

const expectedServerError = (message) => EXPECTED_SERVER_ERRORS.find(([re]) => re.test(message))?.[0].source;
/** A client on a connection of its own (grpc-js otherwise shares one per target). */
const grpcClient = (port) => new Client(`127.0.0.1:${port}`, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });

/** Starts `infera serve` on free ports; resolves { child, httpPort, grpcPort, exited, output }. */
async function startServer(repo) {
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, 'bin', 'infera.js'), 'serve', '--model-repository', repo,
      '--http-address', '127.0.0.1', '--http-port', '0', '--grpc-address', '127.0.0.1', '--grpc-port', '0',
      '--allow-metrics', 'false', '--allow-client-shm', 'true', '--log-format', 'json',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk).slice(-20_000);
  };
  child.stderr.setEncoding('utf8').on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const ports = await new Promise((resolve, reject) => {
    const found = {};
    const timer = setTimeout(() => reject(new Error(`server not ready in 60 s:\n${output}`)), 60_000);
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      keep(chunk);
      for (const m of output.matchAll(/Started (HTTPService|GRPCInferenceService) at [^"]*:(\d+)"/g)) found[m[1]] = Number(m[2]);
      if (found.HTTPService && found.GRPCInferenceService) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
  return { child, httpPort: ports.HTTPService, grpcPort: ports.GRPCInferenceService, exited, output: () => output };
}

/** The client's region, registered as SHM_REGION; undefined where the native addon is missing. */
async function registerRegion(server, key) {
  try {
    const { loadNativeAddon } = await import(path.join(ROOT, 'lib', 'native', 'binding.js'));
    const region = loadNativeAddon().SystemSharedMemoryRegion.create(key, SHM_BYTES);
    const res = await fetch(`http://127.0.0.1:${server.httpPort}/v2/systemsharedmemory/region/${SHM_REGION}/register`, {
      method: 'POST',
      body: JSON.stringify({ key, offset: 0, byte_size: SHM_BYTES }),
    });
    if (res.status !== 200) throw new Error(`register: ${res.status} ${await res.text()}`);
    return region;
  } catch {
    return undefined;
  }
}

/**
 * Sends raw HTTP bytes and half-closes; resolves { kind: 'response', status, body } |
 * { kind: 'closed' } (closed without a response) | { kind: 'refused' } | { kind: 'hang' }.
 */
export function sendHttp(port, bytes, hangMs) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks = [];
    let size = 0;
    let connected = false;
    const timer = setTimeout(() => finish({ kind: 'hang' }), hangMs);
    function finish(result) {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    }
    socket.on('connect', () => {
      connected = true;
      socket.end(bytes);
    });
    socket.on('data', (c) => {
      if (size < 65_536) chunks.push(c);
      size += c.length;
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (!connected) return finish({ kind: 'refused' });
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (!m) return finish({ kind: 'closed' });
      finish({ kind: 'response', status: Number(m[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}

/** A unary call with raw request bytes; resolves { code, details } (code 0 = OK). */
export function sendGrpc(client, rpc, bytes, hangMs) {
  const method = `/inference.GRPCInferenceService/${rpc[0].toUpperCase()}${rpc.slice(1)}`;
  return new Promise((resolve) => {
    client.makeUnaryRequest(method, (b) => b, (b) => b, bytes, new Metadata(), { deadline: Date.now() + hangMs }, (err) =>
      resolve(err ? { code: err.code, details: err.details ?? '' } : { code: 0, details: '' }),
    );
  });
}

function errorMessage(body) {
  const m = /\{"error":"((?:[^"\\]|\\.)*)"/.exec(body);
  return m ? JSON.parse(`"${m[1]}"`) : body.slice(0, 200);
}

/**
 * Runs the fuzz. Options: { protocols: ['http', 'grpc'], count (per protocol), seconds (per
 * protocol, a bound besides count), seed, concurrency (default 8), hangMs (default 10000),
 * samples (findings kept per kind, default 20), log (progress lines, optional), firstIndex
 * (the first case, default 0: replaying one finding is { count: 1, firstIndex: i }) }.
 * Resolves { seed, protocols: { http: Summary, grpc: Summary }, healthyAfter, restarts }, where
 * Summary = { sent, seconds, handled, crashes, hangs, unexpected, byAnswer, expectedServerErrors
 * (count per EXPECTED_SERVER_ERRORS pattern), findings[] } and
 * each finding { kind, protocol, index, description, answer } replays with
 * `node bench/fuzz/run.mjs --replay <protocol>:<index> --seed <seed>`.
 */
export async function runFuzz(options) {
  const { protocols = ['http', 'grpc'], count, seconds = Infinity, seed = 1, concurrency = 8, hangMs = 10_000, samples = 20, log, firstIndex = 0 } = options;
  const repo = mkdtempSync(path.join(os.tmpdir(), 'infera-fuzz-'));
  writeFuzzRepo(repo);
  const key = `/infera_fuzz_${process.pid}`;
  let server = await startServer(repo);
  let region = await registerRegion(server, key);
  let grpc = grpcClient(server.grpcPort);
  let restarts = 0;
  const retired = [];
  const result = { seed, protocols: {}, restarts: 0, healthyAfter: false };
  try {
    for (const protocol of protocols) {
      const s = { sent: 0, seconds: 0, handled: 0, crashes: 0, hangs: 0, unexpected: 0, byAnswer: {}, expectedServerErrors: {}, findings: [] };
      result.protocols[protocol] = s;
      const t0 = Date.now();
      const deadline = t0 + seconds * 1000;
      let next = firstIndex;
      let crashed = false;
      const inFlight = new Map();
      const note = (kind, index, description, answer) => {
        if (s.findings.filter((f) => f.kind === kind).length < samples) s.findings.push({ kind, protocol, index, description, answer });
      };
      const worker = async () => {
        while (next < firstIndex + count && Date.now() < deadline && !crashed) {
          const index = next++;
          const c = protocol === 'http' ? httpCase(seed, index) : grpcCase(seed, index);
          inFlight.set(index, c.description);
          const answer =
            protocol === 'http' ? await sendHttp(server.httpPort, c.bytes, hangMs) : await sendGrpc(grpc, c.rpc, c.bytes, hangMs);
          inFlight.delete(index);
          s.sent++;
          if (server.child.exitCode !== null || server.child.signalCode !== null) {
            crashed = true;
            continue;
          }
          let label;
          if (protocol === 'http') {
            label = answer.kind === 'response' ? String(answer.status) : answer.kind;
            if (answer.kind === 'hang') {
              s.hangs++;
              note('hang', index, c.description, 'no answer');
            } else if (answer.kind === 'response' && answer.status >= 500 && answer.status !== 501) {
              const known = expectedServerError(errorMessage(answer.body));
              if (known === undefined) {
                s.unexpected++;
                note('unexpected', index, c.description, `${answer.status} ${errorMessage(answer.body)}`);
              } else {
                s.handled++;
                s.expectedServerErrors[known] = (s.expectedServerErrors[known] ?? 0) + 1;
              }
            } else s.handled++;
          } else {
            label = GRPC_CODES[answer.code] ?? String(answer.code);
            if (answer.code === 4) {
              s.hangs++;
              note('hang', index, c.description, 'deadline exceeded');
              // A call that never ends can wedge its connection; a fresh one keeps later
              // cases from failing for that reason (calls in flight on the old one keep it).
              retired.push(grpc);
              grpc = grpcClient(server.grpcPort);
            } else if (GRPC_UNEXPECTED.has(answer.code)) {
              const known = expectedServerError(answer.details);
              if (known === undefined) {
                s.unexpected++;
                note('unexpected', index, c.description, `${label} ${answer.details.slice(0, 300)}`);
              } else {
                s.handled++;
                s.expectedServerErrors[known] = (s.expectedServerErrors[known] ?? 0) + 1;
              }
            } else s.handled++;
          }
          s.byAnswer[label] = (s.byAnswer[label] ?? 0) + 1;
          if (log && s.sent % 5000 === 0) log(`${protocol}: ${s.sent} sent, ${s.crashes} crashes, ${s.hangs} hangs, ${s.unexpected} unexpected`);
        }
      };
      for (;;) {
        crashed = false;
        await Promise.all(Array.from({ length: concurrency }, worker));
        if (!crashed) break;
        // The server died: record what was in flight, restart it and go on.
        const { code, signal } = await server.exited;
        s.crashes++;
        note('crash', [...inFlight.keys()][0] ?? next - 1, `exit ${code ?? signal}; in flight: ${[...inFlight.entries()].map(([i, d]) => `#${i} ${d}`).join(' | ')}`, server.output().slice(-2000));
        log?.(`${protocol}: server exited (${code ?? signal}); restarting`);
        grpc.close();
        region?.close();
        server = await startServer(repo);
        region = await registerRegion(server, key);
        grpc = grpcClient(server.grpcPort);
        restarts++;
        if (!(next < firstIndex + count && Date.now() < deadline)) break;
      }
      s.seconds = (Date.now() - t0) / 1000;
    }
    const live = await fetch(`http://127.0.0.1:${server.httpPort}/v2/health/live`).catch(() => undefined);
    const ready = await fetch(`http://127.0.0.1:${server.httpPort}/v2/health/ready`).catch(() => undefined);
    result.healthyAfter = live?.status === 200 && ready?.status === 200;
    result.restarts = restarts;
    return result;
  } finally {
    grpc.close();
    for (const c of retired) c.close();
    server.child.kill('SIGTERM');
    const timer = setTimeout(() => server.child.kill('SIGKILL'), 10_000);
    await server.exited;
    clearTimeout(timer);
    region?.close();
    try {
      const { loadNativeAddon } = await import(path.join(ROOT, 'lib', 'native', 'binding.js'));
      loadNativeAddon().SystemSharedMemoryRegion.unlink(key);
    } catch {
      // no addon, or never created
    }
    rmSync(repo, { recursive: true, force: true });
  }
}

/** Rebuilds one case (for a finding's reproducer): { protocol, index, description, bytes, rpc? }. */
export function replayCase(protocol, seed, index) {
  const c = protocol === 'http' ? httpCase(seed, index) : grpcCase(seed, index);
  return { protocol, index, ...c };
}
