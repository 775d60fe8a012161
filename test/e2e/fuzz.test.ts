/**
 * Protocol fuzzing, briefly: mutated HTTP and gRPC requests (byte flips, truncation, header and
 * JSON field mutations, wrong shapes and datatypes, huge dims, bad binary and shared-memory
 * offsets, corrupt and wrongly-filled ModelInferRequest messages) against the real CLI, with a
 * fixed seed. The long run with the same cases is `node bench/fuzz/run.mjs` (bench/fuzz/harness.mjs
 * classifies the answers). A finding replays with
 * `node bench/fuzz/run.mjs --replay <protocol>:<index> --seed 1 --send`.
 */
import { describe, expect, test } from 'vitest';
// @ts-expect-error plain JavaScript shared with the benchmark script (no type declarations)
import { runFuzz } from '../../bench/fuzz/harness.mjs';

interface Summary {
  sent: number;
  crashes: number;
  hangs: number;
  unexpected: number;
  findings: unknown[];
}

const SEED = 1;

describe('fuzzed requests never crash or hang the server', () => {
  test.each(['http', 'grpc'])('%s: 400 mutated requests (seed 1)', async (protocol) => {
    const result = (await runFuzz({ protocols: [protocol], count: 400, seconds: 8, seed: SEED, concurrency: 4 })) as {
      protocols: Record<string, Summary>;
      healthyAfter: boolean;
    };
    const s = result.protocols[protocol]!;
    expect(s.sent).toBeGreaterThan(50);
    expect({ crashes: s.crashes, hangs: s.hangs, unexpected: s.unexpected, findings: s.findings }).toEqual({
      crashes: 0,
      hangs: 0,
      unexpected: 0,
      findings: [],
    });
    expect(result.healthyAfter).toBe(true);
  }, 120_000);
});
