// media.js: the Media panel: image store (/api/images), the drive (/api/media), uploads and URL downloads.
import { api, errorText, poller, session, xhrResult, can } from './api.js';
import { watchJob, jobSummary, refreshJobs, addLocalJob } from './jobs.js';
import { $, el, needs, enable, say, confirmDialog, humanBytes, fmtTime } from './ui.js';

let images = [];
let medium = { inserted: false, image: null };
let mediaPoll = null;
let upload = null; /* {xhr, ...} while uploading */
let urlWatch = null;

function msg(text, kind) {
  say($('#media-msg'), text, kind);
}

/* ---- the drive ---- */

function renderMedium() {
  const state = $('#media-state');
  if (medium.inserted) {
    const ro = medium.mode === 'cdrom' || medium.readonly ? 'read-only' : 'read-write';
    state.replaceChildren(el('strong', {}, medium.image), ` — ${medium.mode}, ${ro}${medium.size ? ', ' + humanBytes(medium.size) : ''}`);
    state.dataset.state = 'inserted';
  } else {
    state.textContent = 'empty';
    state.dataset.state = 'empty';
  }
  enable($('#eject'), medium.inserted);
}

function notes(data) {
  const n = [];
  if (data && data.forced) n.push('the server had the drive locked: the eject was forced');
  if (data && data.reenumerated) n.push('the gadget re-enumerated, the keyboard is back in about a second');
  return n.length ? `; ${n.join('; ')}` : '';
}

async function insert(name, mode, readonly) {
  msg(`Inserting ${name} as ${mode === 'cdrom' ? 'CD-ROM' : 'disk'}…`, 'busy');
  const res = await api('PUT', '/api/media', { image: name, mode, readonly: mode === 'cdrom' ? true : readonly });
  if (!res.ok) {
    msg(`${name}: ${errorText(res)}`, 'error');
  } else {
    msg(`Inserted ${name} as ${mode === 'cdrom' ? 'CD-ROM' : 'disk'}${notes(res.data)}.`, 'ok');
  }
  await refresh();
}

async function eject() {
  enable($('#eject'), false);
  const res = await api('DELETE', '/api/media');
  if (!res.ok) msg(`Eject: ${errorText(res)}`, 'error');
  else msg(`Ejected${notes(res.data)}.`, 'ok');
  await refresh();
}

/* ---- the image table ---- */

function imageRow(img) {
  const inserted = img.inserted || (medium.inserted && medium.image === img.name);
  const cd = needs(el('button', { type: 'button', class: 'btn small insert-cdrom', title: 'Insert as a read-only CD-ROM' }, 'CD-ROM'), 'operator');
  const ro = el('input', { type: 'checkbox', class: 'ro', checked: true });
  needs(ro, 'operator');
  const disk = needs(el('button', { type: 'button', class: 'btn small insert-disk', title: 'Insert as a USB disk' }, 'Disk'), 'operator');
  const del = needs(el('button', { type: 'button', class: 'btn small danger delete', title: 'Delete the image' }, 'Delete'), 'operator');
  cd.addEventListener('click', () => insert(img.name, 'cdrom', true));
  disk.addEventListener('click', () => insert(img.name, 'disk', ro.checked));
  del.addEventListener('click', () => removeImage(img.name));
  const href = `/api/images/${encodeURIComponent(img.name)}/content`;
  const download = can('operator')
    ? el('a', { class: 'btn small', href, download: img.name, title: 'Download the image' }, 'Download')
    : el('span', { class: 'btn small disabled', title: 'needs the operator role' }, 'Download');
  const sha = img.sha256 ? el('code', { title: `SHA-256 ${img.sha256}` }, img.sha256.slice(0, 12) + '…') : el('span', { title: 'no checksum recorded' }, 'no sha256');
  return el('tr', { dataset: { image: img.name }, class: inserted ? 'inserted' : '' },
    el('td', { class: 'name' },
      el('span', { class: 'img-name' }, img.name),
      inserted ? el('span', { class: 'tag on', title: 'in the drive' }, `inserted${medium.mode ? ' · ' + medium.mode : ''}`) : null,
      el('div', { class: 'meta' },
        el('span', { title: `${img.size} bytes` }, humanBytes(img.size)), ' · ', img.kind || 'unknown', ' · ', sha,
        img.mtime ? el('span', { class: 'mtime' }, ' · ' + fmtTime(img.mtime)) : null)),
    el('td', { class: 'acts' }, cd, el('span', { class: 'disk-group' }, disk, el('label', { class: 'ro-label', title: 'Insert the disk read-only' }, ro, 'ro')), download, del));
}

function renderImages() {
  const tbody = $('#images');
  const focused = document.activeElement;
  const key = focused && focused.closest && focused.closest('#images tr[data-image]')
    ? [focused.closest('tr').dataset.image, [...focused.classList].join('.')] : null;
  tbody.replaceChildren(...images.map(imageRow));
  $('#images-empty').hidden = images.length > 0;
  if (key) {
    const row = [...tbody.rows].find((r) => r.dataset.image === key[0]);
    const again = row && key[1] && row.querySelector('.' + key[1].split('.').filter(Boolean).join('.'));
    if (again) again.focus();
  }
}

/* The table changes rarely: rebuilt only when its content changed. */
let lastImagesKey = '';

async function refresh() {
  const [m, l] = await Promise.all([api('GET', '/api/media'), api('GET', '/api/images')]);
  if (m.ok) medium = m.data;
  if (l.ok) images = l.data.images || [];
  if (!m.ok && m.error.code !== 'logged_out') msg(errorText(m), 'error');
  else if (!l.ok && l.error.code !== 'logged_out') msg(errorText(l), 'error');
  renderMedium();
  const key = JSON.stringify([images, medium, session.role]);
  if (key !== lastImagesKey) {
    lastImagesKey = key;
    renderImages();
  }
}

async function removeImage(name) {
  const ok = await confirmDialog({ title: 'Delete image', message: `Delete “${name}” from the image store? This cannot be undone.`, ok: 'Delete', danger: true });
  if (!ok) return;
  const res = await api('DELETE', `/api/images/${encodeURIComponent(name)}`);
  if (!res.ok) msg(`${name}: ${res.error.code === 'image_inserted' ? 'it is in the drive: eject it first' : errorText(res)}`, 'error');
  else msg(`Deleted ${name}.`, 'ok');
  await refresh();
}

/* ---- upload: PUT /api/images/{name}, the File streamed by the browser ---- */

function setUploading(busy) {
  enable($('#upload-start'), !busy);
  enable($('#upload-cancel'), busy);
}

async function startUpload() {
  const file = $('#upload-file').files[0];
  const status = $('#upload-status');
  if (!file) {
    say(status, 'Choose a file first.', 'error');
    return;
  }
  const name = $('#upload-name').value.trim() || file.name;
  await refresh();
  const existing = images.find((i) => i.name === name);
  if (existing) {
    if (existing.inserted) {
      say(status, `“${name}” is in the drive: eject it before replacing it.`, 'error');
      return;
    }
    const ok = await confirmDialog({ title: 'Replace image', message: `An image named “${name}” exists (${humanBytes(existing.size)}). Replace it?`, ok: 'Replace', danger: true });
    if (!ok) return;
  }
  const xhr = new XMLHttpRequest();
  const started = performance.now();
  const local = addLocalJob({ kind: 'upload', name, cancel: () => xhr.abort() });
  upload = { xhr };
  setUploading(true);
  const progress = $('#upload-progress');
  progress.value = 0;
  say(status, `0% — starting upload of ${name}…`, 'busy');
  xhr.upload.addEventListener('progress', (e) => {
    const total = e.lengthComputable ? e.total : file.size;
    const pct = total ? Math.floor((e.loaded / total) * 100) : 0;
    const secs = (performance.now() - started) / 1000;
    const speed = secs > 0 ? e.loaded / secs : 0;
    const left = speed > 0 ? (total - e.loaded) / speed : 0;
    progress.value = pct;
    const text = `${pct}% — ${humanBytes(e.loaded)} of ${humanBytes(total)}, ${(speed / 1e6).toFixed(1)} MB/s${left > 0.5 ? `, ${Math.ceil(left)} s left` : ''}`;
    say(status, e.loaded >= total ? `${pct}% — checking and saving…` : text, 'busy');
    local.update({ progress: pct / 100, text: `${pct}%` });
  });
  xhr.addEventListener('loadend', () => {
    upload = null;
    setUploading(false);
    if (xhr.status === 0) {
      const aborted = xhr.__aborted;
      say(status, aborted ? 'Upload cancelled: nothing was kept.' : 'Upload failed: the connection closed before gadgetd answered.', 'error');
      local.finish(aborted ? 'cancelled' : 'failed', aborted ? 'cancelled' : 'connection closed');
      refresh();
      return;
    }
    const res = xhrResult(xhr);
    if (res.ok) {
      progress.value = 100;
      const secs = (performance.now() - started) / 1000;
      say(status, `100% — uploaded ${name} (${humanBytes(file.size)} in ${secs.toFixed(1)} s)`, 'ok');
      local.finish('done', 'uploaded');
      $('#upload-file').value = '';
      $('#upload-name').value = '';
    } else {
      const hint = res.error.code === 'image_inserted' ? ' (eject it first)' : res.error.code === 'insufficient_storage' ? ' (not enough free space)' : '';
      say(status, `Upload failed: ${errorText(res)}${hint}`, 'error');
      local.finish('failed', res.error.message || res.error.code);
    }
    refresh();
  });
  xhr.open('PUT', `/api/images/${encodeURIComponent(name)}`);
  xhr.setRequestHeader('X-Requested-With', 'gadgetd-webui');
  if (session.csrf) xhr.setRequestHeader('X-CSRF-Token', session.csrf);
  xhr.setRequestHeader('Content-Type', 'application/octet-stream');
  xhr.send(file);
}

function cancelUpload() {
  if (!upload) return;
  upload.xhr.__aborted = true;
  upload.xhr.abort();
}

/* ---- from a URL: POST /api/images {url, name} -> a download job ---- */

function nameFromUrl(url) {
  try {
    const last = new URL(url).pathname.split('/').filter(Boolean).pop();
    return last ? decodeURIComponent(last) : '';
  } catch {
    return '';
  }
}

function setFetching(busy) {
  enable($('#url-start'), !busy);
  enable($('#url-cancel'), busy);
}

async function startUrl() {
  const url = $('#url-input').value.trim();
  const status = $('#url-status');
  const name = $('#url-name').value.trim() || nameFromUrl(url);
  if (!url) {
    say(status, 'Enter an http or https URL.', 'error');
    return;
  }
  if (!name) {
    say(status, 'Enter a name for the image.', 'error');
    return;
  }
  setFetching(true);
  $('#url-progress').value = 0;
  say(status, `Asking gadgetd to download ${name}…`, 'busy');
  const res = await api('POST', '/api/images', { url, name });
  if (!res.ok) {
    setFetching(false);
    say(status, errorText(res), 'error');
    return;
  }
  refreshJobs();
  urlWatch = watchJob(res.data.id, (job, r) => {
    if (!job) {
      if (r && r.error) say(status, errorText(r), 'error');
      return;
    }
    $('#url-progress').value = job.total ? job.progress : 0;
    const bytes = job.total ? `${humanBytes(job.done)} of ${humanBytes(job.total)}` : humanBytes(job.done);
    const text = job.state === 'running' ? `downloading ${name}: ${bytes}${job.total ? ` (${Math.floor(job.progress * 100)}%)` : ''}`
      : job.state === 'done' ? `done — ${name} downloaded (${humanBytes(job.done)})` : `${name}: ${jobSummary(job)}`;
    say(status, text, job.state === 'failed' ? 'error' : job.state === 'done' ? 'ok' : 'busy');
  }, 500);
  const last = await urlWatch.done;
  urlWatch = null;
  setFetching(false);
  if (last && last.state === 'done') $('#url-progress').value = 1;
  refresh();
}

async function cancelUrl() {
  if (!urlWatch) return;
  enable($('#url-cancel'), false);
  const res = await urlWatch.cancel();
  if (!res.ok) say($('#url-status'), errorText(res), 'error');
}

export function init() {
  mediaPoll = poller(refresh, 5000);
  $('#eject').addEventListener('click', eject);
  $('#upload-form').addEventListener('submit', (e) => {
    e.preventDefault();
    if (!upload) startUpload();
  });
  $('#upload-cancel').addEventListener('click', cancelUpload);
  $('#upload-file').addEventListener('change', () => {
    const f = $('#upload-file').files[0];
    $('#upload-name').placeholder = f ? f.name : 'name in the store (default: the file name)';
  });
  $('#url-form').addEventListener('submit', (e) => {
    e.preventDefault();
    if (!urlWatch) startUrl();
  });
  $('#url-cancel').addEventListener('click', cancelUrl);
  $('#url-input').addEventListener('input', () => {
    $('#url-name').placeholder = nameFromUrl($('#url-input').value.trim()) || 'name in the store';
  });
}

export function start() {
  lastImagesKey = '';
  setUploading(upload !== null);
  setFetching(urlWatch !== null);
  mediaPoll.start();
}

export function stop() {
  mediaPoll.stop();
  if (urlWatch) urlWatch.stop();
  urlWatch = null;
}
