// The KServe v2 calls the console makes, relative to the console's URL (so that a server
// mounted under a prefix works): every call goes through the same routes, restrictions and
// errors as any client's.

const BASE = new URL('../', document.baseURI);

/** `fetch` of a path under the server root; rejects with the server's `{"error"}` message. */
export async function call(path, init = {}) {
  const res = await fetch(new URL(path, BASE), init);
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    try {
      message = JSON.parse(text).error ?? text;
    } catch {}
    throw new Error(`${res.status}: ${message || res.statusText}`);
  }
  return text;
}

export async function getJson(path) {
  return JSON.parse(await call(path));
}

export async function postJson(path, body) {
  const text = await call(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body ?? {}) });
  return text === '' ? undefined : JSON.parse(text);
}

const seg = (s) => encodeURIComponent(s);

export const api = {
  server: () => getJson('v2'),
  ready: async () => (await fetch(new URL('v2/health/ready', BASE))).status === 200,
  consoleServer: () => getJson('console/server.json'),
  consoleMetrics: () => call('console/metrics'),
  index: () => postJson('v2/repository/index', {}),
  metadata: (m) => getJson(`v2/models/${seg(m)}`),
  config: (m) => getJson(`v2/models/${seg(m)}/config`),
  stats: () => getJson('v2/models/stats'),
  infer: (m, request) => postJson(`v2/models/${seg(m)}/infer`, request),
  load: (m) => postJson(`v2/repository/models/${seg(m)}/load`, {}),
  unload: (m) => postJson(`v2/repository/models/${seg(m)}/unload`, {}),
};
