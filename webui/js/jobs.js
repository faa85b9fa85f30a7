// jobs.js: the Jobs panel (GET /api/jobs), job watching for other panels, and the browser's own uploads.
import { api, errorText, poller } from './api.js';
import { $, el, needs, fmtTime, fmtDuration, humanBytes, say } from './ui.js';

const FINISHED = new Set(['done', 'failed', 'cancelled']);
export const isFinished = (job) => FINISHED.has(job.state);

let listPoll = null;
const rows = new Map(); /* job id -> <tr> */
const locals = new Map(); /* local id -> {row, ...} */
let localSeq = 0;
const listeners = new Set();

/* FN(jobs) runs after every refresh of the list, with the server's jobs. */
export function onJobs(fn) {
  listeners.add(fn);
}

/* "done 12/40", "failed: host_offline ...": a job in words. */
export function jobSummary(job) {
  const count = job.total ? `${job.done}/${job.total}` : job.done ? String(job.done) : '';
  if (job.state === 'failed') return `failed${job.error ? ': ' + (job.error.message || job.error.code) : ''}`;
  if (job.state === 'cancelled') return `cancelled${count ? ' at ' + count : ''}`;
  return `${job.state}${count ? ' ' + count : ''}`;
}

/*
 * Polls job ID every INTERVAL ms, calling onUpdate(job) until it finishes; resolves to the last
 * job (or null when it could not be read). The returned object's cancel() asks the server.
 */
export function watchJob(id, onUpdate, interval = 250) {
  let stopped = false;
  const done = (async () => {
    for (;;) {
      const res = await api('GET', `/api/jobs/${id}`);
      if (stopped) return null;
      if (!res.ok) {
        if (res.status === 0 && res.error.code === 'logged_out') return null;
        onUpdate(null, res);
        if (res.status === 404 || res.status === 401) return null;
      } else {
        onUpdate(res.data, res);
        if (isFinished(res.data)) {
          if (listPoll) listPoll.now();
          return res.data;
        }
      }
      await new Promise((r) => setTimeout(r, interval));
    }
  })();
  return {
    done,
    stop() {
      stopped = true;
    },
    async cancel() {
      const res = await api('DELETE', `/api/jobs/${id}`);
      if (listPoll) listPoll.now();
      return res;
    },
  };
}

/* Tells the list something changed (a job was just submitted). */
export function refreshJobs() {
  if (listPoll) listPoll.now();
}

function progressCell(value) {
  return el('progress', { max: 1, value: Math.max(0, Math.min(1, value || 0)) });
}

function jobRow(job) {
  const cancel = needs(el('button', { type: 'button', class: 'btn small', title: 'Cancel this job' }, 'Cancel'), 'operator');
  cancel.addEventListener('click', async () => {
    cancel.disabled = true;
    const res = await api('DELETE', `/api/jobs/${job.id}`);
    if (!res.ok) say($('#jobs-msg'), `Job ${job.id}: ${errorText(res)}`, 'error');
    listPoll.now();
  });
  const tr = el('tr', { dataset: { jobId: String(job.id) } },
    el('td', { class: 'num' }, String(job.id)),
    el('td', { class: 'kind' }),
    el('td', { class: 'state' }),
    el('td', { class: 'prog' }, progressCell(0), el('span', { class: 'count' })),
    el('td', { class: 'user' }),
    el('td', { class: 'created' }),
    el('td', { class: 'dur' }),
    el('td', { class: 'err' }),
    el('td', { class: 'act' }, cancel));
  tr._cancel = cancel;
  return tr;
}

function fillRow(tr, job) {
  const c = tr.cells;
  const script = job.kind === 'script';
  c[1].textContent = script && job.script ? `script: ${job.script}` : job.kind;
  c[2].textContent = job.state;
  c[2].className = 'state st-' + job.state;
  c[3].firstChild.value = job.progress || 0;
  c[3].lastChild.textContent = job.kind === 'download'
    ? (job.total ? `${humanBytes(job.done)} / ${humanBytes(job.total)}` : job.done ? humanBytes(job.done) : '')
    : job.total ? `${script ? 'step ' : ''}${job.done}/${job.total}` : '';
  c[4].textContent = job.user || '';
  c[5].textContent = fmtTime(job.created);
  c[6].textContent = fmtDuration(job.duration_ms);
  c[7].textContent = job.error ? job.error.message || job.error.code : '';
  c[7].title = job.error ? job.error.code : '';
  tr._cancel.hidden = isFinished(job);
}

async function loadJobs() {
  const res = await api('GET', '/api/jobs');
  if (!res.ok) {
    if (res.status !== 0 || res.error.code !== 'logged_out') say($('#jobs-msg'), errorText(res), 'error');
    return;
  }
  const list = Array.isArray(res.data.jobs) ? res.data.jobs : [];
  const tbody = $('#jobs');
  const seen = new Set();
  // Server jobs come after the browser's own entries; existing rows are not moved (focus stays).
  let ref = tbody.firstChild;
  while (ref && ref.dataset.localJob) ref = ref.nextSibling;
  for (const job of list) {
    const id = String(job.id);
    seen.add(id);
    let tr = rows.get(id);
    if (!tr) {
      tr = jobRow(job);
      rows.set(id, tr);
    }
    fillRow(tr, job);
    if (tr !== ref) tbody.insertBefore(tr, ref);
    else ref = ref.nextSibling;
  }
  for (const [id, tr] of rows) {
    if (!seen.has(id)) {
      tr.remove();
      rows.delete(id);
    }
  }
  $('#jobs-empty').hidden = tbody.rows.length > 0;
  for (const fn of listeners) {
    try {
      fn(list);
    } catch (e) {
      console.warn('jobs listener failed', e);
    }
  }
  if ($('#jobs-msg').classList.contains('error')) say($('#jobs-msg'), '');
}

/*
 * A browser-side entry (an upload): {kind, name, cancel()} -> {update({progress, state, text}),
 * finish(state, text)}. Shown first in the list, without data-job-id.
 */
export function addLocalJob({ kind, name, cancel }) {
  const id = 'local-' + ++localSeq;
  const cancelBtn = el('button', { type: 'button', class: 'btn small' }, 'Cancel');
  cancelBtn.addEventListener('click', () => cancel && cancel());
  const tr = el('tr', { class: 'local', dataset: { localJob: id } },
    el('td', { class: 'num' }, '—'),
    el('td', { class: 'kind' }, kind),
    el('td', { class: 'state st-running' }, 'running'),
    el('td', { class: 'prog' }, progressCell(0), el('span', { class: 'count' })),
    el('td', { class: 'user' }, 'this browser'),
    el('td', { class: 'created' }, fmtTime(Date.now() / 1000)),
    el('td', { class: 'dur' }),
    el('td', { class: 'err' }, name),
    el('td', { class: 'act' }, cancelBtn));
  const started = Date.now();
  const tbody = $('#jobs');
  tbody.insertBefore(tr, tbody.firstChild);
  $('#jobs-empty').hidden = true;
  const entry = { tr };
  locals.set(id, entry);
  // Keep only the latest few finished local entries.
  const finished = [...locals.entries()].filter(([, e]) => e.finished);
  while (finished.length > 5) {
    const [oldId, old] = finished.shift();
    old.tr.remove();
    locals.delete(oldId);
  }
  return {
    update({ progress, text }) {
      tr.cells[3].firstChild.value = progress || 0;
      tr.cells[3].lastChild.textContent = text || '';
      tr.cells[6].textContent = fmtDuration(Date.now() - started);
    },
    finish(state, text) {
      entry.finished = true;
      tr.cells[2].textContent = state;
      tr.cells[2].className = 'state st-' + state;
      tr.cells[6].textContent = fmtDuration(Date.now() - started);
      if (text) tr.cells[7].textContent = `${name}: ${text}`;
      if (state === 'done') tr.cells[3].firstChild.value = 1;
      cancelBtn.hidden = true;
    },
  };
}

export function init() {
  listPoll = poller(loadJobs, 2000);
}

export function start() {
  listPoll.start();
}

export function stop() {
  listPoll.stop();
}
