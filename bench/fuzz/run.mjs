#!/usr/bin/env node
// Protocol fuzzing, long form: mutated HTTP and gRPC requests (bench/fuzz/*-cases.mjs) against a
// real server with a small repository, counting crashes, hangs and unexpected server errors
// (classification in bench/fuzz/harness.mjs). `npm test` runs the same cases briefly
// (test/e2e/fuzz.test.ts); this is the run for 100k+ requests per protocol.
// Writes bench/results/fuzz.{json,md}.
//
//   npm run build && node bench/fuzz/run.mjs [--requests <n per protocol, default 100000>]
//       [--seed <n, default 1>] [--seconds <bound per protocol>] [--concurrency <n, default 8>]
//       [--protocols http,grpc]
//   node bench/fuzz/run.mjs --replay http:1234 --seed 1    prints one case (a finding's reproducer)
//       and, with --send, sends it to a fresh server and prints the answer
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../lib/models.mjs';
import { replayCase, runFuzz } from './harness.mjs';

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? fallback : args[i + 1];
};
const seed = Number(arg('seed', '1'));

if (arg('replay') !== undefined) {
  const [protocol, index] = arg('replay').split(':');
  const c = replayCase(protocol, seed, Number(index));
  console.log(`${protocol} case ${index} (seed ${seed}): ${c.description}${c.rpc ? ` (rpc ${c.rpc})` : ''}`);
  console.log(protocol === 'http' ? JSON.stringify(c.bytes.toString('latin1').slice(0, 600)) : `base64 ${c.bytes.toString('base64').slice(0, 600)}`);
  if (args.includes('--send')) {
    const r = await runFuzz({ protocols: [protocol], count: 1, seed, concurrency: 1, firstIndex: Number(index) });
    console.log(JSON.stringify(r.protocols[protocol], null, 2));
  }
  process.exit(0);
}

const requests = Number(arg('requests', '100000'));
const seconds = Number(arg('seconds', 'Infinity'));
const concurrency = Number(arg('concurrency', '8'));
const protocols = arg('protocols', 'http,grpc').split(',');
const started = new Date();
const result = await runFuzz({ protocols, count: requests, seconds, seed, concurrency, samples: 50, log: (l) => console.log(l) });
const out = {
  date: started.toISOString(),
  machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version },
  requestsPerProtocol: requests,
  concurrency,
  ...result,
};

function markdown(r) {
  const lines = [
    '# Protocol fuzzing: mutated HTTP and gRPC requests',
    '',
    `Run ${r.date} on ${r.machine.cpu} (${r.machine.cores} cores), Node ${r.machine.node}. Seed ${r.seed}, ` +
      `up to ${r.requestsPerProtocol} cases per protocol, ${r.concurrency} in flight. Server healthy after: ` +
      `**${r.healthyAfter ? 'yes' : 'NO'}**; restarts after a crash: ${r.restarts}.`,
    '',
    '| protocol | sent | seconds | crashes | hangs | unexpected 5xx / INTERNAL | answers |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const [p, s] of Object.entries(r.protocols)) {
    const answers = Object.entries(s.byAnswer).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}: ${v}`).join(', ');
    lines.push(`| ${p} | ${s.sent} | ${s.seconds.toFixed(1)} | ${s.crashes} | ${s.hangs} | ${s.unexpected} | ${answers} |`);
  }
  const findings = Object.values(r.protocols).flatMap((s) => s.findings);
  lines.push('', findings.length === 0 ? 'No findings.' : '## Findings (replay: `node bench/fuzz/run.mjs --replay <protocol>:<index> --seed <seed> --send`)', '');
  for (const f of findings) {
    lines.push(`- **${f.kind}** ${f.protocol}:${f.index}: ${f.description.slice(0, 300).replaceAll('|', '\\|')} → ${String(f.answer).slice(0, 300).replaceAll('\n', ' ')}`);
  }
  return `${lines.join('\n')}\n`;
}

const dir = path.join(ROOT, 'bench', 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(dir, 'fuzz.json'), `${JSON.stringify(out, null, 2)}\n`);
writeFileSync(path.join(dir, 'fuzz.md'), markdown(out));
console.log(markdown(out));
const failed = Object.values(out.protocols).some((s) => s.crashes + s.hangs + s.unexpected > 0) || !out.healthyAfter;
process.exit(failed ? 1 : 0);
