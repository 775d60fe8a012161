// The console page: server header, models table (refreshed every 2 s), live charts, try it.
import { api } from './api.js';
import { startCharts } from './charts.js';
import { modelState, renderModels } from './models.js';
import { startTryIt } from './try-it.js';

const $ = (id) => document.getElementById(id);

function setOptions(select, names) {
  const current = select.value;
  const same = select.options.length === names.length && names.every((n, i) => select.options[i].value === n);
  if (same) return false;
  select.replaceChildren(...names.map((n) => Object.assign(document.createElement('option'), { value: n, textContent: n })));
  if (names.includes(current)) select.value = current;
  return select.value !== current;
}

async function main() {
  const [server, consoleServer] = await Promise.all([api.server().catch(() => undefined), api.consoleServer().catch(() => ({ model_control_mode: 'none' }))]);
  if (server !== undefined) $('server-info').textContent = `${server.name} ${server.version}`;
  const explicit = consoleServer.model_control_mode === 'explicit';
  $('control-mode').textContent = `model control mode: ${consoleServer.model_control_mode}`;
  if (!explicit) document.querySelector('#models th.actions').textContent = '';

  const tryIt = startTryIt({
    select: $('try-model'),
    form: $('try-form'),
    inputsBox: $('try-inputs'),
    outputsBox: $('try-outputs'),
    status: $('try-status'),
    result: $('try-result'),
  });
  startCharts($('charts'), $('live-model'), $('live-note'));

  const showError = (message) => {
    $('models-error').hidden = message === '';
    $('models-error').textContent = message;
  };
  let refreshing;
  const refresh = async () => {
    try {
      const ready = await api.ready();
      $('server-ready').textContent = ready ? 'ready' : 'not ready';
      $('server-ready').className = `badge state-${ready ? 'READY' : 'UNAVAILABLE'}`;
      const models = await renderModels($('models').tBodies[0], { explicit, onChange: () => (refreshing = refresh()), onError: showError });
      const readyNames = models.filter((m) => modelState(m) === 'READY').map((m) => m.name);
      if (setOptions($('try-model'), readyNames) || ($('try-model').value && !$('try-form').dataset.model)) await tryIt.choose();
      if (setOptions($('live-model'), models.map((m) => m.name))) $('live-model').dispatchEvent(new Event('change'));
      document.body.dataset.loaded = 'true';
    } catch (err) {
      showError(`models: ${err.message}`);
    }
  };
  const loop = async () => {
    await (refreshing = refresh());
    setTimeout(loop, 2000);
  };
  void loop();
}

void main();
