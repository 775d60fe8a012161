import type { GrpcClient } from 'infera/client';
import { CHUNK_SAMPLES } from './stream.js';

/**
 * Streams audio as one sequence over one gRPC ModelStreamInfer stream: every chunk is sent at
 * once, in order (a stream keeps its order, so unlike HTTP there is no need to wait for each
 * answer), and the answers come back in the same order. The last chunk is zero-padded.
 * @returns one speech probability per chunk.
 * @throws the first in-band error of the stream (e.g. an unknown model).
 */
export async function grpcSpeechProbabilities(
  client: Pick<GrpcClient, 'stream'>,
  samples: Float32Array,
  sequenceId: number | string,
  model = 'silero_vad',
): Promise<number[]> {
  const count = Math.ceil(samples.length / CHUNK_SAMPLES);
  const stream = client.stream();
  for (let i = 0; i < count; i++) {
    const chunk = new Float32Array(CHUNK_SAMPLES);
    chunk.set(samples.subarray(i * CHUNK_SAMPLES, (i + 1) * CHUNK_SAMPLES));
    stream.send({
      model,
      id: String(i),
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, CHUNK_SAMPLES], data: chunk }],
      outputs: [{ name: 'output' }],
      parameters: { sequence_id: sequenceId, sequence_start: i === 0, sequence_end: i === count - 1 },
    });
  }
  stream.end();
  const probabilities = new Array<number>(count);
  let received = 0;
  for await (const item of stream) {
    if (item.error !== undefined) throw item.error;
    const out = item.result.output('output');
    if (!(out.data instanceof Float32Array) || out.data.length !== 1) {
      throw new TypeError(`model '${model}' returned ${out.datatype} ${JSON.stringify(out.shape)} for 'output', expected FP32 [1,1]`);
    }
    probabilities[Number(item.id)] = out.data[0]!;
    received++;
  }
  if (received !== count) throw new Error(`the stream ended after ${received} of ${count} answers`);
  return probabilities;
}
