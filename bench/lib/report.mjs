// bench/RESULTS.md: one markdown document with every table of the run.
const f = (v, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
const ms = (us) => f(us / 1000, 2);
/** The client column, or why the cell failed. */
const who = (r) => (r.error === undefined ? r.client : `failed: ${r.error.slice(0, 160).replace(/\|/g, '/')}`);

function table(head, rows) {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function renderResults({ meta, goals, limit, infera, peer, trivial, perfCheck, others, sharedMemory, headline }) {
  const out = [
    '# infera benchmark results',
    '',
    `Run ${meta.date} (${meta.mode} mode: ${meta.seconds} s per cell after ${meta.warmup} s warm-up, longer where requests are too slow for three round trips per connection in that time, ${meta.reps} process-level repetition${meta.reps === 1 ? '' : 's'}, medians; ${meta.durationS.toFixed(0)} s in all).`,
    `Machine: ${meta.cpu}, ${meta.cores} cores; Node ${meta.node}; onnxruntime-node ${meta.ort}; wrk and h2load as load generators.`,
    meta.pinned
      ? `**Pinning:** every server (infera, the peers, the bare floors, in-process onnxruntime) ran on CPU ${meta.serverCpus} and every load generator (wrk, h2load, infera perf) on CPU ${meta.clientCpus}, with taskset.`
      : '**Pinning:** none (fewer than 2 cores or no taskset): servers and load generators shared the CPUs.',
    'infera: one instance per model with one intra-op thread (`intra_op_thread_count: 1`); dynamic batcher, when on: `max_queue_delay_microseconds: 500`, preferred batch 4 (rec), 2 (det), none (cls). Inputs: cls 1×3×48×192, rec 1×3×48×320, det 1×3×320×320, FP32; JSON bodies print each float32 widened to a double (numpy `tolist()` + `json.dumps`).',
    '',
    '## Goals',
    '',
    table(
      ['goal', 'measured', 'target', 'met', 'numbers'],
      goals.map((g) => [g.goal, f(g.value, 2), g.target, g.met ? 'yes' : '**no**', g.detail]),
    ),
    '',
    ...(headline === undefined
      ? []
      : [
          `## Headline: ${headline.model} at concurrency ${headline.concurrency}, interleaved`,
          '',
          `Each repetition runs the three sides back to back, in rotated order; the goals above use the medians. Every cell: ${headline.seconds} s after ${headline.warmup} s of warm-up, on a server started for the repetition.`,
          '',
          table(
            ['side', ...Array.from({ length: headline.reps }, (_, i) => `rep ${i + 1} infer/s`), 'median', 'p50 ms (median rep)', 'server CPU µs/req'],
            [
              ['in-process onnxruntime-node, batch ' + headline.batch, headline.limit, headline.medians.limit],
              ['infera + batcher, HTTP binary (wrk)', headline.infera['http-binary'], headline.medians['http-binary']],
              ['infera + batcher, gRPC (h2load)', headline.infera.grpc, headline.medians.grpc],
              ['fastify + onnxruntime-node, JSON (wrk)', headline.peer, headline.medians.peer],
            ].map(([name, runs, med]) => {
              const mid = [...runs].filter((r) => Number.isFinite(r.rps)).sort((a, b) => a.rps - b.rps)[Math.floor((runs.filter((r) => Number.isFinite(r.rps)).length - 1) / 2)];
              return [name, ...runs.map((r) => (r.error === undefined ? f(r.rps, 1) : 'failed')), f(med, 1), mid?.p50Us === undefined ? 'n/a' : ms(mid.p50Us), mid?.serverCpuUsPerReq === undefined ? 'n/a' : f(mid.serverCpuUsPerReq, 0)];
            }),
          ),
          '',
        ]),
    '## Limit: onnxruntime-node in-process',
    '',
    table(
      ['model', 'batch', 'threads', 'infer/s', 'ms per run', 'range (infer/s)'],
      limit.map((r) => [r.model, r.batch, r.threads, f(r.inferPerSec, 1), f(r.msPerRun, 3), `${f(r.range[0], 1)}–${f(r.range[1], 1)}`]),
    ),
    '',
    'The protocol limits (bare node:http answering a fixed small JSON, bare grpc-js echo) are in the trivial-model table.',
    '',
    '## infera',
    '',
    table(
      ['model', 'protocol', 'batcher', 'c', 'infer/s', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'avg batch', 'limit', 'ratio', 'client'],
      infera.map((r) => [r.model, r.protocol, r.batching ? 'on' : 'off', r.concurrency, f(r.rps, 1), ms(r.p50Us), ms(r.p99Us), f(r.serverCpuUsPerReq, 0), f(r.avgBatch, 2), `${r.limit} (${f(r.limitValue, 0)})`, f(r.ratio, 2), who(r)]),
    ),
    '',
    sharedMemory.available ? 'System shared memory rows were measured with `infera perf --shared-memory system` as the client.' : `System shared memory: not measured — the server does not register regions (${sharedMemory.reason ?? 'unknown'}).`,
    '',
    '## Peer: fastify + onnxruntime-node',
    '',
    table(
      ['model', 'body', 'c', 'infer/s', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'limit', 'ratio', 'client'],
      peer.map((r) => [r.model, 'JSON', r.concurrency, f(r.rps, 1), ms(r.p50Us), ms(r.p99Us), f(r.serverCpuUsPerReq, 0), `${r.limit} (${f(r.limitValue, 0)})`, f(r.ratio, 2), who(r)]),
    ),
    '',
    '## Trivial model (add/sub INT32 [1,16]): per-request overhead',
    '',
    table(
      ['server', 'protocol', 'c', 'infer/s', 'p50 µs', 'p99 µs', 'server CPU %', 'server CPU µs/req', 'rps ÷ bare', 'CPU/req ÷ bare', 'client'],
      trivial.map((r) => [r.name, r.protocol, r.concurrency, f(r.rps, 0), f(r.p50Us), f(r.p99Us), f(r.serverCpuPercent, 0), f(r.serverCpuUsPerReq, 1), r.ratio === undefined ? '1 (limit)' : f(r.ratio, 2), r.cpuRatio === undefined ? '1 (limit)' : f(r.cpuRatio, 2), who(r)]),
    ),
    '',
    '## infera perf vs the benchmark client (wrk), same load',
    '',
    table(
      ['model', 'c', 'infer/s wrk / perf', 'p50 ms wrk / perf', 'p99 ms wrk / perf', 'avg ms wrk / perf', 'p50 ratio', 'avg ratio', 'perf client CPU %', 'note'],
      perfCheck.map((r) => [r.model, r.concurrency, `${f(r.wrk_rps, 0)} / ${f(r.perf_rps, 0)}`, `${ms(r.wrk_p50Us)} / ${ms(r.perf_p50Us)}`, `${ms(r.wrk_p99Us)} / ${ms(r.perf_p99Us)}`, `${ms(r.wrk_meanUs)} / ${ms(r.perf_meanUs)}`, f(r.ratio_p50Us, 3), f(r.ratio_meanUs, 3), f(r.perfClientCpuPercent, 1), r.error === undefined ? (r.perfStable ? '' : 'perf: not stable within its windows') : `failed: ${r.error.slice(0, 160)}`]),
    ),
    '',
  ];
  if (others.length > 0) {
    out.push('## Other benchmarks run by this entry point', '');
    out.push(table(['benchmark', 'status', 'results'], others.map((o) => [o.name, o.status, o.results.join(', ')])));
    out.push('');
  }
  return out.join('\n');
}
