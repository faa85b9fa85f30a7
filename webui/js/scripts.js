// scripts.js: the Scripts panel: saved reinstall scripts (/api/scripts), their run form, the running
// script's steps (its job, polled while it runs) and the upload of a script's JSON.
import { api, errorText, poller } from './api.js';
import { isFinished, onJobs, refreshJobs } from './jobs.js';
import { $, el, enable, needs, say, confirmDialog, fmtDuration } from './ui.js';

const NAME_RE = /^[a-z0-9._-]{1,64}$/;
const VAR_RE = /\$\$|\$\{([a-z0-9_]{1,32})\}/g; /* "$$" is a "$": consumed so "$${x}" is no variable */

let jobPoll = null;
let jobId = 0; /* the job shown in #script-progress */
let runName = null; /* the script in the run form */
let shownCurrent = -1;

const short = (s, n = 60) => (s.length > n ? s.slice(0, n - 1) + '…' : s);

/* A 400's "step" (kept in the body: api() only keeps code and message). */
function stepOf(res) {
  const e = res.data && res.data.error;
  return e && Number.isInteger(e.step) ? e.step : null;
}

async function loadScripts() {
  const res = await api('GET', '/api/scripts');
  if (!res.ok) {
    if (res.error.code !== 'logged_out') say($('#scripts-msg'), errorText(res), 'error');
    return;
  }
  const list = (res.data.scripts || []).slice().sort((a, b) => a.name.localeCompare(b.name));
  const box = $('#script-list');
  if (!list.length) {
    box.replaceChildren(el('li', { class: 'muted' }, 'No saved scripts yet.'));
    return;
  }
  box.replaceChildren(...list.map((s) => {
    const desc = s.description || '';
    const run = needs(el('button', { type: 'button', class: 'btn small primary', dataset: { runScript: s.name } }, 'Run'), 'operator');
    run.addEventListener('click', () => openRun(s.name));
    const del = needs(el('button', { type: 'button', class: 'btn small danger', dataset: { deleteScript: s.name } }, 'Delete'), 'operator');
    del.addEventListener('click', () => remove(s.name));
    return el('li', { dataset: { name: s.name } },
      el('span', { class: 'script-name' }, s.name),
      el('span', { class: 'desc', title: desc || null }, short(desc)),
      el('span', { class: 'steps-n' }, `${s.steps} step${s.steps === 1 ? '' : 's'}`),
      el('span', { class: 'acts' }, run, del));
  }));
}

/* ---- the run form ---- */

async function openRun(name) {
  const res = await api('GET', `/api/scripts/${encodeURIComponent(name)}`);
  if (!res.ok) {
    say($('#scripts-msg'), `${name}: ${errorText(res)}`, 'error');
    return;
  }
  const doc = res.data || {};
  const defaults = doc.vars && typeof doc.vars === 'object' ? doc.vars : {};
  const names = new Set(Object.keys(defaults));
  for (const m of JSON.stringify(doc.steps || []).matchAll(VAR_RE)) if (m[1]) names.add(m[1]);
  const fields = [...names].map((v, i) => {
    const d = defaults[v];
    const input = needs(el('input', { type: 'text', id: `script-var-${i}`, dataset: { var: v }, value: d === undefined || d === null ? '' : String(d), autocomplete: 'off', spellcheck: 'false', placeholder: d === undefined ? 'no default: required' : null }), 'operator');
    return el('div', {}, el('label', { for: `script-var-${i}` }, v), input);
  });
  $('#script-vars').replaceChildren(...(fields.length ? fields : [el('p', { class: 'muted small' }, 'This script has no variables.')]));
  runName = name;
  $('#script-run-title').textContent = `Run “${name}”`;
  say($('#script-error'), '');
  $('#script-run').hidden = false;
  say($('#scripts-msg'), '');
  ($('#script-vars input') || $('#script-start')).focus();
}

function closeRun() {
  runName = null;
  $('#script-run').hidden = true;
  $('#script-vars').replaceChildren();
}

async function startRun() {
  if (!runName) return;
  const vars = {};
  for (const input of $('#script-vars').querySelectorAll('input[data-var]')) if (input.value !== '') vars[input.dataset.var] = input.value;
  const btn = $('#script-start');
  enable(btn, false);
  say($('#script-error'), `Starting ${runName}…`, 'busy');
  const res = await api('POST', `/api/scripts/${encodeURIComponent(runName)}/run`, { vars });
  enable(btn, true);
  refreshJobs();
  if (!res.ok) {
    say($('#script-error'), errorText(res), 'error');
    return;
  }
  say($('#scripts-msg'), `${runName}: started as job ${res.data.id}`, 'ok');
  closeRun();
  track(res.data);
}

/* ---- the running script ---- */

function track(job) {
  jobId = job.id;
  shownCurrent = -1;
  render(job);
  if (isFinished(job)) jobPoll.stop();
  else jobPoll.start();
}

async function pollJob() {
  const id = jobId;
  if (!id) return;
  const res = await api('GET', `/api/jobs/${id}`);
  if (id !== jobId) return;
  if (!res.ok) {
    if (res.error.code === 'logged_out') return;
    say($('#script-result'), errorText(res), 'error');
    if (res.status === 404) jobPoll.stop();
    return;
  }
  render(res.data);
  if (isFinished(res.data)) {
    jobPoll.stop();
    refreshJobs();
  }
}

function stepItem(s, current) {
  const st = String(s.state || 'pending');
  return el('li', { class: current ? 'current' : null, 'aria-current': current ? 'step' : null },
    el('span', { class: 'idx' }, String(s.index)),
    el('span', { class: 'kind' }, s.kind || ''),
    s.name ? el('strong', {}, s.name) : null,
    el('span', { class: `tag st-${st}` }, st),
    s.attempts > 1 ? el('span', { class: 'muted small' }, `${s.attempts} attempts`) : null,
    Number.isFinite(s.duration_ms) ? el('span', { class: 'muted small' }, `${(s.duration_ms / 1000).toFixed(1)} s`) : null,
    s.message ? el('span', { class: 'step-msg', title: s.message }, short(s.message, 160)) : null);
}

function render(job) {
  $('#script-progress').hidden = false;
  const steps = Array.isArray(job.steps) ? job.steps : [];
  const finished = isFinished(job);
  let cur = steps.findIndex((s) => s.state === 'running');
  if (cur < 0 && finished && Number.isInteger(job.failed_step)) cur = job.failed_step;
  const state = $('#script-job');
  state.textContent = `${job.script || 'script'} · job ${job.id} · ${job.state}` + (job.total ? ` · step ${job.done}/${job.total}` : '');
  state.className = 'small st-' + job.state;
  const ol = $('#script-steps');
  ol.replaceChildren(...steps.map((s, i) => stepItem(s, i === cur)));
  if (cur !== shownCurrent && ol.children[cur]) ol.scrollTop = Math.max(0, ol.children[cur].offsetTop - ol.clientHeight / 2);
  shownCurrent = cur;
  const cancel = $('#script-cancel');
  cancel.hidden = finished;
  const tail = $('#script-console-tail');
  if (!finished) {
    say($('#script-result'), job.state === 'queued' ? 'queued…' : 'running…', 'busy');
    tail.hidden = true;
  } else if (job.state === 'done') {
    say($('#script-result'), `done${job.duration_ms ? ' in ' + fmtDuration(job.duration_ms) : ''}`, 'ok');
    tail.hidden = true;
  } else {
    say($('#script-result'), job.error ? job.error.message || job.error.code : job.state, 'error');
    tail.textContent = typeof job.console_tail === 'string' ? job.console_tail : '';
    tail.hidden = !tail.textContent;
  }
}

async function cancel() {
  if (!jobId) return;
  const btn = $('#script-cancel');
  enable(btn, false);
  const res = await api('DELETE', `/api/jobs/${jobId}`);
  enable(btn, true);
  refreshJobs();
  if (!res.ok) say($('#script-result'), errorText(res), 'error');
  else if (res.data && res.data.id === jobId) render(res.data);
  jobPoll.now();
}

/* A script started elsewhere (another browser, curl): shown too, for viewers as well. */
function adopt(jobs) {
  let newest = null;
  for (const j of jobs) if (j.kind === 'script' && !isFinished(j) && j.id > jobId && (!newest || j.id > newest.id)) newest = j;
  if (newest) track(newest);
}

/* ---- upload ---- */

async function loadFile() {
  const file = $('#script-file').files[0];
  if (!file) return;
  if (file.size > 1 << 20) {
    say($('#script-save-msg'), `${file.name}: larger than 1 MiB`, 'error');
    return;
  }
  try {
    $('#script-json').value = await file.text();
  } catch {
    say($('#script-save-msg'), `${file.name}: cannot be read`, 'error');
    return;
  }
  const name = $('#script-name');
  if (!name.value.trim()) name.value = file.name.replace(/\.json$/i, '').toLowerCase().replace(/[^a-z0-9._-]+/g, '-').slice(0, 64);
  say($('#script-save-msg'), `Loaded ${file.name}.`, 'ok');
}

async function save() {
  const msg = $('#script-save-msg');
  const name = $('#script-name').value.trim();
  if (!NAME_RE.test(name)) {
    say(msg, 'A name is 1-64 of a-z 0-9 . _ - (lower case).', 'error');
    $('#script-name').focus();
    return;
  }
  let doc;
  try {
    doc = JSON.parse($('#script-json').value);
  } catch (e) {
    say(msg, `Not valid JSON: ${e.message}`, 'error');
    $('#script-json').focus();
    return;
  }
  const btn = $('#script-save');
  enable(btn, false);
  say(msg, `Saving ${name}…`, 'busy');
  const res = await api('PUT', `/api/scripts/${encodeURIComponent(name)}`, doc);
  enable(btn, true);
  if (!res.ok) {
    const step = stepOf(res);
    say(msg, errorText(res) + (step !== null ? ` (at step ${step})` : ''), 'error');
    return;
  }
  say(msg, `${res.status === 201 ? 'Saved' : 'Replaced'} “${name}” (${res.data.steps} steps).`, 'ok');
  loadScripts();
}

async function remove(name) {
  const ok = await confirmDialog({ title: 'Delete script', message: `Delete the script “${name}”? This cannot be undone.`, ok: 'Delete', danger: true });
  if (!ok) return;
  const res = await api('DELETE', `/api/scripts/${encodeURIComponent(name)}`);
  if (!res.ok) say($('#scripts-msg'), `${name}: ${errorText(res)}`, 'error');
  else {
    say($('#scripts-msg'), `Deleted “${name}”.`, 'ok');
    if (runName === name) closeRun();
  }
  loadScripts();
}

export function init() {
  jobPoll = poller(pollJob, 500);
  onJobs(adopt);
  $('#script-run').addEventListener('submit', (e) => {
    e.preventDefault();
    startRun();
  });
  $('#script-run-close').addEventListener('click', closeRun);
  $('#script-cancel').addEventListener('click', cancel);
  $('#script-file').addEventListener('change', loadFile);
  $('#script-upload').addEventListener('submit', (e) => {
    e.preventDefault();
    save();
  });
}

export function start() {
  loadScripts();
}

export function stop() {
  jobPoll.stop();
  jobId = 0;
  closeRun();
  $('#script-progress').hidden = true;
}
