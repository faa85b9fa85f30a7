// keys.js: the ordered key-sending queue (POST /api/keys) and the Paste text panel with its job.
import { api, errorText } from './api.js';
import { watchJob, jobSummary, refreshJobs } from './jobs.js';
import { $, el, enable, say } from './ui.js';

/* ---- one request at a time, in order: the virtual keyboard and the capture share it ---- */

let chain = Promise.resolve();

/*
 * Queues POST /api/keys?wait=1 with BODY ({keys} or {macro}); resolves to the result once it is
 * typed. Requests never overlap, so keys reach the server in the order they were pressed.
 */
export function sendKeys(body) {
  const next = chain.then(() => api('POST', '/api/keys?wait=1', body));
  chain = next.then(() => undefined);
  next.then((res) => {
    if (!res.ok) refreshJobs();
  });
  return next;
}

/* A failed key request in words (503 host_offline: the server is off or unplugged). */
export function keysError(res) {
  if (res.data && res.data.state === 'failed' && res.data.error) return res.data.error.message || res.data.error.code;
  return errorText(res);
}

/* ---- paste ---- */

let watcher = null;

function setBusy(busy) {
  enable($('#paste-send'), !busy);
  enable($('#paste-cancel'), busy);
}

async function send() {
  const text = $('#paste-text').value;
  const status = $('#paste-status');
  if (!text) {
    say(status, 'Nothing to type.', 'error');
    return;
  }
  const body = { text };
  if ($('#paste-layout').value) body.layout = $('#paste-layout').value;
  setBusy(true);
  $('#paste-progress').value = 0;
  say(status, 'Sending…', 'busy');
  const res = await api('POST', '/api/keys', body);
  if (!res.ok) {
    setBusy(false);
    say(status, keysError(res), 'error');
    return;
  }
  refreshJobs();
  const job = res.data;
  watcher = watchJob(job.id, (j, r) => {
    if (!j) {
      if (r && r.error) say(status, errorText(r), 'error');
      return;
    }
    $('#paste-progress').value = j.progress || 0;
    say(status, jobSummary(j), j.state === 'failed' ? 'error' : j.state === 'done' ? 'ok' : 'busy');
  });
  await watcher.done;
  watcher = null;
  setBusy(false);
}

async function cancel() {
  if (!watcher) return;
  enable($('#paste-cancel'), false);
  const res = await watcher.cancel();
  if (!res.ok) say($('#paste-status'), errorText(res), 'error');
}

async function loadLayouts() {
  const res = await api('GET', '/api/keyboard/layouts');
  const select = $('#paste-layout');
  if (!res.ok) return;
  const current = select.value;
  select.replaceChildren(...(res.data.layouts || []).map((l) =>
    el('option', { value: l.name }, `${l.name}${l.characters ? ` (${l.characters} characters)` : ''}`)));
  select.value = current && [...select.options].some((o) => o.value === current) ? current : res.data.default;
}

export function init() {
  $('#paste-form').addEventListener('submit', (e) => {
    e.preventDefault();
    if (!watcher) send();
  });
  $('#paste-cancel').addEventListener('click', cancel);
}

export function start() {
  setBusy(watcher !== null);
  loadLayouts();
}

export function stop() {
  if (watcher) watcher.stop();
  watcher = null;
}
