import type { HttpClient } from 'infera/client';

/** Samples per request: what the served Silero VAD v5 model takes at 16 kHz. */
export const CHUNK_SAMPLES = 512;

/** Where a chunk sits in its sequence (Triton's sequence parameters). */
export interface ChunkPosition {
  sequenceId: number | string;
  start: boolean;
  end: boolean;
}

/** Scores one chunk of `CHUNK_SAMPLES` samples: the probability that it holds speech. */
export type ChunkScorer = (chunk: Float32Array, position: ChunkPosition) => Promise<number>;

/**
 * Scores chunks with the `silero_vad` model over HTTP (binary tensors both ways). The server
 * keeps the model's state between the chunks of a sequence, so each request carries only the
 * chunk and its `sequence_id` / `sequence_start` / `sequence_end` parameters.
 */
export function httpScorer(client: Pick<HttpClient, 'infer'>, model = 'silero_vad'): ChunkScorer {
  return async (chunk, position) => {
    const res = await client.infer({
      model,
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, CHUNK_SAMPLES], data: chunk }],
      outputs: [{ name: 'output' }],
      parameters: {
        sequence_id: position.sequenceId,
        sequence_start: position.start,
        sequence_end: position.end,
      },
    });
    const out = res.output('output');
    if (!(out.data instanceof Float32Array) || out.data.length !== 1) {
      throw new TypeError(`model '${model}' returned ${out.datatype} ${JSON.stringify(out.shape)} for 'output', expected FP32 [1,1]`);
    }
    return out.data[0]!;
  };
}

/**
 * Streams audio through a scorer as one sequence, chunk after chunk (each request waits for
 * the previous answer: over HTTP, requests sent at once could arrive out of order, and the
 * first must carry START). The last chunk is zero-padded to full length.
 * @returns one speech probability per chunk.
 */
export async function speechProbabilities(samples: Float32Array, score: ChunkScorer, sequenceId: number | string): Promise<number[]> {
  const count = Math.ceil(samples.length / CHUNK_SAMPLES);
  const probabilities: number[] = [];
  for (let i = 0; i < count; i++) {
    const chunk = new Float32Array(CHUNK_SAMPLES);
    chunk.set(samples.subarray(i * CHUNK_SAMPLES, (i + 1) * CHUNK_SAMPLES));
    probabilities.push(await score(chunk, { sequenceId, start: i === 0, end: i === count - 1 }));
  }
  return probabilities;
}
