/** How speech probabilities become segments; the defaults are Silero's `get_speech_timestamps`. */
export interface SegmentOptions {
  /** A window with probability ≥ threshold is speech. Default 0.5. */
  threshold?: number;
  /**
   * Once in speech, only a window below this counts as silence (hysteresis: windows in
   * between keep the current state). Default threshold − 0.15.
   */
  negThreshold?: number;
  /** Speech shorter than this is dropped, ms. Default 250. */
  minSpeechMs?: number;
  /** Silence must last this long to end a segment, ms. Default 100. */
  minSilenceMs?: number;
  /** Each segment is widened by this much on both sides (without overlapping its neighbours), ms. Default 30. */
  speechPadMs?: number;
  /** Samples per probability. Default 512. */
  windowSamples?: number;
  /** Default 16000. */
  sampleRate?: number;
}

/** One stretch of speech, in seconds from the start of the audio. */
export interface SpeechSegment {
  start: number;
  end: number;
}

/**
 * Turns one speech probability per window into speech segments: a segment opens at the first
 * window at or above `threshold`, and closes where a run of windows below `negThreshold` that
 * lasts at least `minSilenceMs` began; segments shorter than `minSpeechMs` are dropped, and
 * the rest are padded by `speechPadMs` (split in half where two segments are closer than twice
 * the padding). A segment still open at the end closes at the end of the audio.
 *
 * @param probabilities one per window, in order.
 * @param totalSamples the audio's length in samples (the last window may be partial).
 */
export function speechSegments(probabilities: readonly number[], totalSamples: number, options: SegmentOptions = {}): SpeechSegment[] {
  const threshold = options.threshold ?? 0.5;
  const negThreshold = options.negThreshold ?? threshold - 0.15;
  const rate = options.sampleRate ?? 16000;
  const window = options.windowSamples ?? 512;
  const samples = (ms: number): number => (rate * ms) / 1000;
  const minSpeech = samples(options.minSpeechMs ?? 250);
  const minSilence = samples(options.minSilenceMs ?? 100);
  const pad = samples(options.speechPadMs ?? 30);

  const found: { start: number; end: number }[] = [];
  let start: number | undefined;
  let silenceFrom: number | undefined;
  probabilities.forEach((p, i) => {
    const at = i * window;
    if (p >= threshold) {
      silenceFrom = undefined;
      start ??= at;
      return;
    }
    if (start === undefined || p >= negThreshold) return;
    silenceFrom ??= at;
    if (at - silenceFrom < minSilence) return;
    if (silenceFrom - start > minSpeech) found.push({ start, end: silenceFrom });
    start = undefined;
    silenceFrom = undefined;
  });
  if (start !== undefined && totalSamples - start > minSpeech) found.push({ start, end: totalSamples });

  for (let i = 0; i < found.length; i++) {
    const s = found[i]!;
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

/** `1.23–4.56`: a segment as the example prints it, seconds with two decimals. */
export function formatSegment(segment: SpeechSegment): string {
  return `${segment.start.toFixed(2)}–${segment.end.toFixed(2)}`;
}
