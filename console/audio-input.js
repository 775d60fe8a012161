// Audio files for "try it" on a stateful model such as the Silero VAD example: the file is
// decoded and resampled to 16 kHz mono by the browser, then streamed as one sequence of
// fixed-size chunks (sequence_id / sequence_start / sequence_end), one request after another;
// the speech probabilities become segments with the rules of examples/vad/src/segments.ts
// (Silero's get_speech_timestamps defaults).

export const AUDIO_RATE = 16000;

/** The file's audio as mono samples at `rate` Hz (the mean of its channels). */
export async function audioSamples(file, rate = AUDIO_RATE) {
  const context = new OfflineAudioContext(1, 1, rate);
  const buffer = await context.decodeAudioData(await file.arrayBuffer());
  const out = new Float32Array(buffer.length);
  for (let c = 0; c < buffer.numberOfChannels; c++) {
    const data = buffer.getChannelData(c);
    for (let i = 0; i < out.length; i++) out[i] += data[i] / buffer.numberOfChannels;
  }
  return out;
}

/** The requests of one sequence: chunks of `window` samples (the last zero-padded), batch 1. */
export function sequenceRequests(input, samples, window, outputs) {
  const id = 1 + Math.floor(Math.random() * 2 ** 40);
  const count = Math.max(1, Math.ceil(samples.length / window));
  const requests = [];
  for (let i = 0; i < count; i++) {
    const chunk = new Array(window).fill(0);
    for (let k = 0; k < window && i * window + k < samples.length; k++) chunk[k] = samples[i * window + k];
    requests.push({
      parameters: { sequence_id: id, sequence_start: i === 0, sequence_end: i === count - 1 },
      inputs: [{ name: input.name, datatype: input.datatype, shape: input.shape.length > 1 ? [1, window] : [window], data: chunk }],
      outputs,
    });
  }
  return requests;
}

/**
 * Speech segments in seconds from one probability per window: opens at p >= 0.5, closes where
 * at least 100 ms below 0.35 began; shorter than 250 ms dropped; padded by 30 ms.
 */
export function speechSegments(probabilities, totalSamples, window, rate = AUDIO_RATE) {
  const ms = (v) => (rate * v) / 1000;
  const found = [];
  let start;
  let silenceFrom;
  probabilities.forEach((p, i) => {
    const at = i * window;
    if (p >= 0.5) {
      silenceFrom = undefined;
      start ??= at;
      return;
    }
    if (start === undefined || p >= 0.35) return;
    silenceFrom ??= at;
    if (at - silenceFrom < ms(100)) return;
    if (silenceFrom - start > ms(250)) found.push({ start, end: silenceFrom });
    start = undefined;
    silenceFrom = undefined;
  });
  if (start !== undefined && totalSamples - start > ms(250)) found.push({ start, end: totalSamples });
  const pad = ms(30);
  for (let i = 0; i < found.length; i++) {
    const s = found[i];
    if (i === 0) s.start = Math.max(0, s.start - pad);
    const next = found[i + 1];
    if (next === undefined) {
      s.end = Math.min(totalSamples, s.end + pad);
      continue;
    }
    const gap = next.start - s.end;
    const widen = gap < 2 * pad ? Math.floor(gap / 2) : pad;
    s.end += widen;
    next.start = Math.max(0, next.start - widen);
  }
  return found.map((s) => ({ start: s.start / rate, end: s.end / rate }));
}
