// "Try it": sends the form's request to the chosen model and shows the response: text for
// BYTES outputs (one line each), the top class for classification outputs, values otherwise;
// and, for a request made from an image whose response has boxes ([n, 4, 2], as the `ocr`
// ensemble's BOXES), the image with its boxes and their text.
import { api } from './api.js';
import { speechSegments } from './audio-input.js';
import { drawBoxes } from './image-input.js';
import { buildForm } from './tensor-form.js';

function el(tag, props = {}, ...children) {
  const e = Object.assign(document.createElement(tag), props);
  for (const c of children) e.append(c);
  return e;
}

const CLASS = /^([-+0-9.eE]+):(\d+)(?::(.*))?$/;

/** "0.998:1:180" -> {p, index, label}; undefined when the string is not a classification. */
export function parseClass(s) {
  const m = CLASS.exec(String(s));
  return m === null ? undefined : { p: Number(m[1]), index: Number(m[2]), label: m[3] };
}

function flatten(data) {
  return Array.isArray(data) ? data.flat(Infinity) : [];
}

function renderOutput(o, classified) {
  const box = el('div', { className: 'output' });
  box.dataset.output = o.name;
  box.append(el('strong', { textContent: o.name }), ' ', el('span', { className: 'meta', textContent: `${o.datatype} [${o.shape.join(', ')}]` }));
  const values = flatten(o.data);
  if (classified) {
    const top = parseClass(values[0]);
    if (top !== undefined) {
      box.append(el('div', { className: 'top-class', textContent: `${top.label ?? top.index} (${(top.p * 100).toFixed(1)}%)` }));
    }
  }
  if (o.datatype === 'BYTES') {
    box.append(el('ol', { className: 'lines' }, ...values.map((v) => el('li', { textContent: String(v) }))));
  } else {
    const shown = values.slice(0, 256).map((v) => (typeof v === 'number' ? Number(v.toPrecision(6)) : v));
    box.append(el('pre', { textContent: JSON.stringify(shown) + (values.length > 256 ? ` … (${values.length} values)` : '') }));
  }
  return box;
}

/**
 * Sends a sequence's requests one after another (the sequence batcher keeps the model's state
 * between them) and shows the first output's value per chunk and, read as speech
 * probabilities, the speech segments.
 */
async function runSequence(model, { requests, window, samples }, status, result) {
  const started = performance.now();
  const values = [];
  for (let i = 0; i < requests.length; i++) {
    status.textContent = `request ${i + 1} of ${requests.length}…`;
    const response = await api.infer(model, requests[i]);
    values.push(Number(flatten(response.outputs[0]?.data)[0]));
  }
  status.textContent = `${model}: ${requests.length} requests of ${window} samples in one sequence, ${(performance.now() - started).toFixed(0)} ms`;
  const segments = speechSegments(values, samples, window);
  const list = el('div', { className: 'segments', textContent: `${segments.length} speech segment${segments.length === 1 ? '' : 's'}: ` + segments.map((g) => `${g.start.toFixed(2)}–${g.end.toFixed(2)} s`).join(', ') });
  list.dataset.count = String(segments.length);
  result.append(list, el('pre', { textContent: JSON.stringify(values.map((v) => Number(v.toFixed(3)))) }));
}

/** Wires the model select, form and result panel. `models()` gives the READY model names. */
export function startTryIt({ select, form, inputsBox, outputsBox, status, result }) {
  let build;
  const choose = async () => {
    inputsBox.replaceChildren();
    outputsBox.replaceChildren();
    result.replaceChildren();
    build = undefined;
    const model = select.value;
    if (!model) return;
    try {
      const [metadata, config] = await Promise.all([api.metadata(model), api.config(model).catch(() => undefined)]);
      if (select.value !== model) return;
      build = buildForm(inputsBox, outputsBox, metadata, config);
      form.dataset.model = model;
    } catch (err) {
      status.textContent = err.message;
    }
  };
  select.addEventListener('change', choose);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (build === undefined) return;
    const model = select.value;
    status.textContent = 'sending…';
    result.replaceChildren();
    result.dataset.state = 'pending';
    try {
      const built = await build();
      if (built.sequence !== undefined) {
        await runSequence(model, built.sequence, status, result);
        result.dataset.state = 'done';
        return;
      }
      const { request, image } = built;
      const started = performance.now();
      const response = await api.infer(model, request);
      status.textContent = `${response.model_name} v${response.model_version}: ${(performance.now() - started).toFixed(0)} ms`;
      const classified = new Set(request.outputs.filter((o) => o.parameters.classification > 0).map((o) => o.name));
      const boxes = response.outputs.find((o) => o.datatype === 'FP32' && o.shape.length >= 2 && o.shape.at(-1) === 2 && o.shape.at(-2) === 4);
      if (image !== undefined && boxes !== undefined) {
        const text = response.outputs.find((o) => o.datatype === 'BYTES');
        result.append(await drawBoxes(image, flatten(boxes.data), text === undefined ? [] : flatten(text.data)));
      }
      for (const o of response.outputs) result.append(renderOutput(o, classified.has(o.name)));
      result.dataset.state = 'done';
    } catch (err) {
      status.textContent = '';
      result.append(el('p', { className: 'error', textContent: err.message }));
      result.dataset.state = 'error';
    }
  });
  return { choose };
}
