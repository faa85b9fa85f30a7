// api.js: the JSON API client (CSRF header, error shape, lost sessions) and the visible-page pollers.

/* Who is logged in; user is null while logged out (then no request but login/session is sent). */
export const session = { user: null, role: null, csrf: null };

const RANK = { viewer: 0, operator: 1, admin: 2 };

/* Whether the session's role is at least NEED. */
export function can(need) {
  return session.user !== null && (RANK[session.role] ?? -1) >= (RANK[need] ?? 99);
}

let authLostHandler = () => {};

/* FN(error) runs once when a reply says the credentials are gone. */
export function onAuthLost(fn) {
  authLostHandler = fn;
}

/* Called for a 401 from anywhere (fetch, XHR, WebSocket checks). */
export function authLost(error) {
  if (session.user === null) return;
  session.user = null;
  session.role = null;
  session.csrf = null;
  authLostHandler(error);
}

const PUBLIC = new Set(['/api/login', '/api/session']);

/* An error object from a reply body or a status. */
function errorOf(status, data, statusText) {
  if (data && typeof data === 'object' && data.error && typeof data.error === 'object') {
    return { code: String(data.error.code || 'error'), message: String(data.error.message || '') };
  }
  return { code: 'http_' + status, message: `HTTP ${status}${statusText ? ' ' + statusText : ''}` };
}

/*
 * METHOD PATH with BODY (JSON unless undefined). Never throws: resolves to
 * {ok, status, data, error: {code, message} | null, headers}. Status 0: not sent or no reply.
 */
export async function api(method, path, body, { signal } = {}) {
  if (session.user === null && !PUBLIC.has(path)) {
    return { ok: false, status: 0, data: null, error: { code: 'logged_out', message: 'not logged in' }, headers: new Headers() };
  }
  const headers = { Accept: 'application/json', 'X-Requested-With': 'gadgetd-webui' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store', signal };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  let resp;
  try {
    resp = await fetch(path, init);
  } catch (e) {
    const aborted = e && e.name === 'AbortError';
    return {
      ok: false, status: 0, data: null, headers: new Headers(),
      error: { code: aborted ? 'aborted' : 'network', message: aborted ? 'cancelled' : 'cannot reach gadgetd' },
    };
  }
  let data = null;
  if ((resp.headers.get('Content-Type') || '').includes('json')) {
    try {
      data = await resp.json();
    } catch {
      data = null;
    }
  }
  const res = { ok: resp.ok, status: resp.status, data, headers: resp.headers, error: null };
  if (!resp.ok) {
    res.error = errorOf(resp.status, data, resp.statusText);
    if (resp.status === 429 || resp.status === 503) {
      const after = resp.headers.get('Retry-After');
      if (after) res.error.retryAfter = Number(after);
    }
    if (resp.status === 401 && path !== '/api/login') authLost(res.error);
  }
  return res;
}

/* The parsed reply of an XMLHttpRequest, in api()'s shape (401 handled the same way). */
export function xhrResult(xhr) {
  let data = null;
  try {
    data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
  } catch {
    data = null;
  }
  const ok = xhr.status >= 200 && xhr.status < 300;
  const res = { ok, status: xhr.status, data, error: null };
  if (!ok) {
    res.error = xhr.status === 0
      ? { code: 'network', message: 'the connection closed before gadgetd answered' }
      : errorOf(xhr.status, data, xhr.statusText);
    if (xhr.status === 401) authLost(res.error);
  }
  return res;
}

/* A human line for a failed result. */
export function errorText(res) {
  if (!res || !res.error) return '';
  let text = res.error.message || res.error.code;
  if (res.error.retryAfter) text += ` (retry in ${res.error.retryAfter} s)`;
  return text;
}

/* ---- pollers: run FN every MS while started, logged in and the page is visible ---- */

const pollers = new Set();

export function poller(fn, ms) {
  let running = false, busy = false, again = false, timer = null;
  const schedule = (delay) => {
    clearTimeout(timer);
    timer = running ? setTimeout(tick, delay) : null;
  };
  async function tick() {
    timer = null;
    if (!running || session.user === null || document.visibilityState !== 'visible') return;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      await fn();
    } catch (e) {
      console.warn('poll failed', e);
    } finally {
      busy = false;
    }
    if (!running) return;
    schedule(again ? 0 : ms);
    again = false;
  }
  const p = {
    start() {
      if (running) return;
      running = true;
      schedule(0);
    },
    stop() {
      running = false;
      clearTimeout(timer);
      timer = null;
    },
    /* Runs it again as soon as possible (after a change the user made). */
    now() {
      if (running) schedule(0);
    },
    wake() {
      if (running && timer === null && !busy) schedule(0);
    },
  };
  pollers.add(p);
  return p;
}

export function stopAllPollers() {
  for (const p of pollers) p.stop();
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') for (const p of pollers) p.wake();
});
