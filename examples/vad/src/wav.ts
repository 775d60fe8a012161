/** Audio read from a WAV file: samples in [-1, 1), mixed down to one channel. */
export interface WavAudio {
  sampleRate: number;
  /** Channels in the file (the samples are their average). */
  channels: number;
  samples: Float32Array;
}

/**
 * Reads a RIFF/WAVE file of 16-bit little-endian PCM (format 1, or WAVE_FORMAT_EXTENSIBLE with
 * the PCM sub-format), which is what espeak-ng, sox and most recorders write. Chunks other than
 * `fmt ` and `data` (LIST, fact, ...) are skipped; a `data` chunk whose size field is 0 or too
 * large (streamed WAVs) runs to the end of the file.
 * @throws Error naming what is wrong: not RIFF/WAVE, no fmt or data chunk, not 16-bit PCM.
 */
export function readWav(file: Uint8Array): WavAudio {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const tag = (offset: number): string => String.fromCharCode(...file.subarray(offset, offset + 4));
  if (file.byteLength < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new Error('not a RIFF/WAVE file');

  let format: { code: number; channels: number; sampleRate: number; bits: number } | undefined;
  let offset = 12;
  while (offset + 8 <= file.byteLength) {
    const id = tag(offset);
    let size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      let code = view.getUint16(body, true);
      // WAVE_FORMAT_EXTENSIBLE keeps the real format in the first two bytes of its sub-format GUID.
      if (code === 0xfffe && size >= 26) code = view.getUint16(body + 24, true);
      format = {
        code,
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        bits: view.getUint16(body + 14, true),
      };
    } else if (id === 'data') {
      if (format === undefined) throw new Error("WAV 'data' chunk before its 'fmt ' chunk");
      if (format.code !== 1 || format.bits !== 16) {
        throw new Error(`only 16-bit PCM WAV is supported (format ${format.code}, ${format.bits} bits)`);
      }
      if (size === 0 || body + size > file.byteLength) size = file.byteLength - body;
      return { sampleRate: format.sampleRate, channels: format.channels, samples: mixDown(view, body, size, format.channels) };
    }
    offset = body + size + (size % 2); // chunks are padded to an even size
  }
  throw new Error(format === undefined ? "WAV file has no 'fmt ' chunk" : "WAV file has no 'data' chunk");
}

function mixDown(view: DataView, start: number, bytes: number, channels: number): Float32Array {
  const frames = Math.floor(bytes / (2 * channels));
  const out = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += view.getInt16(start + (f * channels + c) * 2, true);
    out[f] = sum / channels / 32768;
  }
  return out;
}
