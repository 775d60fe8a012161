// The "try it" form, built from a model's metadata (inputs, outputs: name, datatype, shape) and
// config (label files): per input a shape and JSON data, or an image file where the input takes
// one; per output a classification count where the output has labels.
import { audioSamples, sequenceRequests } from './audio-input.js';
import { fileToBase64, imageToChw } from './image-input.js';

function el(tag, props = {}, ...children) {
  const e = Object.assign(document.createElement(tag), props);
  for (const c of children) e.append(c);
  return e;
}

/**
 * How a file feeds an input, or undefined: 'bytes' (an encoded image), 'chw' (an image as a
 * [.., 3, H, W] FP32 tensor) or 'audio' (an FP32 window of samples of a sequence model, fed
 * the audio as one sequence).
 */
export function fileMode(input, config) {
  const s = input.shape;
  const window = config?.max_batch_size > 0 ? s.slice(1) : s;
  if (config?.sequence_batching !== undefined && input.datatype === 'FP32' && window.length === 1 && window[0] > 0) return 'audio';
  if (input.datatype === 'BYTES' && s.filter((d) => d !== 1 && d !== -1).length === 0 && s.length <= 2) return 'bytes';
  if (input.datatype === 'FP32' && s.length >= 3 && s.at(-3) === 3) return 'chw';
  return undefined;
}

const concrete = (shape) => shape.map((d) => (d < 0 ? 1 : d));
const count = (shape) => shape.reduce((a, b) => a * b, 1);

/** Renders the form's fields; returns `build()`, which resolves to {request, image}. */
export function buildForm(inputsBox, outputsBox, metadata, config) {
  const fields = metadata.inputs.map((input) => {
    const mode = fileMode(input, config);
    const shape = el('input', { className: 'shape', value: concrete(input.shape).join(','), size: 20 });
    const data = el('textarea', {
      className: 'data',
      placeholder: count(concrete(input.shape)) > 64 ? 'JSON data, row-major (empty: zeros)' : 'JSON data, row-major',
      value: count(concrete(input.shape)) <= 64 ? JSON.stringify(new Array(count(concrete(input.shape))).fill(input.datatype === 'BYTES' ? '' : 0)) : '',
    });
    const file = mode === undefined ? undefined : el('input', { type: 'file', className: 'file', accept: mode === 'audio' ? 'audio/*' : 'image/*' });
    const box = el(
      'div',
      { className: 'tensor input' },
      el('strong', { textContent: input.name }),
      ' ',
      el('span', { className: 'meta', textContent: `${input.datatype} [${input.shape.join(', ')}]` }),
      el('div', {}, 'shape ', shape),
      data,
    );
    if (file !== undefined) {
      const how = {
        bytes: 'or an image file (sent as encoded bytes): ',
        chw: 'or an image file (read as PP-OCR does: BGR, (x/255−0.5)/0.5): ',
        audio: `or an audio file (16 kHz mono, streamed as one sequence of ${input.shape.at(-1)}-sample requests): `,
      };
      box.append(el('div', {}, how[mode], file));
    }
    box.dataset.input = input.name;
    inputsBox.append(box);
    return { input, mode, shape, data, file };
  });

  const labelled = new Set((config?.output ?? []).filter((o) => o.label_filename).map((o) => o.name));
  // Top-k classification for the outputs that have labels (the config's label_filename).
  const outputs = metadata.outputs.map((output) => {
    const box = el('div', { className: 'tensor output' }, el('strong', { textContent: output.name }), ' ', el('span', { className: 'meta', textContent: `${output.datatype} [${output.shape.join(', ')}]` }));
    let k;
    if (labelled.has(output.name)) {
      const classes = output.shape.at(-1) > 0 ? output.shape.at(-1) : 3;
      k = el('input', { type: 'number', min: 0, className: 'classification', value: Math.min(3, classes), size: 3 });
      box.append(el('div', {}, 'classification: top ', k, ' labels (0: the values)'));
    }
    box.dataset.output = output.name;
    outputsBox.append(box);
    return { output, k };
  });

  return async function build() {
    const outputsRequested = outputs.map(({ output, k }) => ({
      name: output.name,
      parameters: k !== undefined && Number(k.value) > 0 ? { classification: Number(k.value) } : {},
    }));
    const audio = fields.find((f) => f.mode === 'audio' && f.file.files?.[0] !== undefined);
    if (audio !== undefined) {
      const window = audio.input.shape.at(-1);
      const samples = await audioSamples(audio.file.files[0]);
      return { sequence: { requests: sequenceRequests(audio.input, samples, window, outputsRequested), window, samples: samples.length } };
    }
    let image;
    const inputs = [];
    for (const f of fields) {
      let shape = f.shape.value.split(',').map((s) => Number(s.trim()));
      let data;
      const file = f.file?.files?.[0];
      if (file !== undefined) {
        image = file;
        if (f.mode === 'bytes') {
          data = [await fileToBase64(file)];
          shape = shape.map(() => 1);
        } else {
          const t = await imageToChw(file, f.input.shape.at(-2), f.input.shape.at(-1));
          data = t.data;
          shape = [...shape.slice(0, -3).map(() => 1), ...t.shape];
        }
      } else if (f.data.value.trim() === '') {
        data = new Array(count(shape)).fill(f.input.datatype === 'BYTES' ? '' : 0);
      } else {
        try {
          data = JSON.parse(f.data.value);
        } catch (err) {
          throw new Error(`input '${f.input.name}': the data is not JSON (${err.message})`);
        }
      }
      inputs.push({ name: f.input.name, datatype: f.input.datatype, shape, data });
    }
    return { request: { inputs, outputs: outputsRequested }, image };
  };
}
