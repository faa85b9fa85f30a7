// macros.js: the built-in macro buttons, the user's saved macros and the macro editor (/api/macros).
import { api, errorText } from './api.js';
import { refreshJobs } from './jobs.js';
import { keysError } from './keys.js';
import { $, el, needs, say, confirmDialog } from './ui.js';

const NAME_RE = /^[a-z0-9._-]{1,64}$/;

/* Built-in groups: [title, prefix, label of a member]. */
const GROUPS = [
  ['BIOS setup', 'bios-setup-', (n) => n.slice(11).toUpperCase()],
  ['Boot menu', 'boot-menu-', (n) => n.slice(10).toUpperCase()],
  ['GRUB', 'grub-', (n) => ({ 'grub-menu': 'Menu (Shift)', 'grub-menu-esc': 'Menu (Esc)', 'grub-edit': 'Edit (e)', 'grub-boot': 'Boot (Ctrl+X)' }[n] || n.slice(5))],
  ['Magic SysRq', 'sysrq-', (n) => ({ 'sysrq-reisub': 'REISUB', 'sysrq-reboot': 'Reboot now' }[n] || n.slice(6))],
  ['Consoles', 'ctrl-alt-f', (n) => 'Ctrl+Alt+F' + n.slice(10)],
];

async function run(name, btn) {
  const msg = $('#macro-run-msg');
  btn.classList.add('running');
  say(msg, `Running ${name}…`, 'busy');
  const res = await api('POST', `/api/macros/${encodeURIComponent(name)}/run`);
  btn.classList.remove('running');
  refreshJobs();
  if (res.ok) say(msg, `${name}: queued as job ${res.data.id}`, 'ok');
  else say(msg, `${name}: ${keysError(res)}`, 'error');
}

function runButton(m, label, cls = 'btn') {
  const b = needs(el('button', { type: 'button', class: cls, title: m.description || m.name, dataset: { macro: m.name } }, label), 'operator');
  b.addEventListener('click', () => run(m.name, b));
  return b;
}

function renderBuiltins(list) {
  const box = $('#macro-builtin');
  const groups = new Map(GROUPS.map(([title]) => [title, []]));
  groups.set('Other', []);
  const cad = list.find((m) => m.name === 'ctrl-alt-del');
  for (const m of list) {
    if (m === cad) continue;
    const g = GROUPS.find(([, prefix]) => m.name.startsWith(prefix));
    groups.get(g ? g[0] : 'Other').push(runButton(m, g ? g[2](m.name) : m.name, 'btn small'));
  }
  const nodes = [];
  if (cad) nodes.push(runButton(cad, 'Ctrl+Alt+Del', 'btn primary big'));
  for (const [title, buttons] of groups) {
    if (buttons.length) nodes.push(el('div', { class: 'macro-group', role: 'group', 'aria-label': title }, el('span', { class: 'group-title' }, title), el('div', { class: 'btns' }, buttons)));
  }
  box.replaceChildren(...nodes);
}

function renderSaved(list) {
  const box = $('#macro-list');
  if (!list.length) {
    box.replaceChildren(el('li', { class: 'muted' }, 'No saved macros yet.'));
    return;
  }
  box.replaceChildren(...list.map((m) => {
    const edit = el('button', { type: 'button', class: 'btn small', dataset: { edit: m.name } }, 'Edit');
    edit.addEventListener('click', () => editMacro(m.name));
    const del = needs(el('button', { type: 'button', class: 'btn small danger', dataset: { deleteMacro: m.name } }, 'Delete'), 'operator');
    del.addEventListener('click', () => remove(m.name));
    return el('li', { dataset: { name: m.name } },
      runButton(m, '▶ ' + m.name, 'btn small'),
      el('span', { class: 'desc' }, m.description || ''),
      el('span', { class: 'acts' }, edit, del));
  }));
}

export async function loadMacros() {
  const res = await api('GET', '/api/macros');
  if (!res.ok) {
    if (res.error.code !== 'logged_out') say($('#macro-run-msg'), errorText(res), 'error');
    return;
  }
  const list = res.data.macros || [];
  renderBuiltins(list.filter((m) => m.builtin));
  renderSaved(list.filter((m) => !m.builtin).sort((a, b) => a.name.localeCompare(b.name)));
}

/* ---- editor ---- */

function lines() {
  return $('#macro-text').value.split('\n');
}

function renderGutter(bad = 0) {
  const n = lines().length;
  const gutter = $('#macro-gutter');
  if (gutter.childElementCount !== n || bad !== Number(gutter.dataset.bad || 0)) {
    gutter.replaceChildren(...Array.from({ length: n }, (_, i) => el('div', { class: i + 1 === bad ? 'bad' : '' }, String(i + 1))));
    gutter.dataset.bad = String(bad);
  }
  const mark = $('#macro-mark');
  mark.hidden = !bad;
  if (bad) mark.style.setProperty('--line', String(bad - 1));
  syncScroll();
}

function syncScroll() {
  const ta = $('#macro-text');
  $('#macro-gutter').scrollTop = ta.scrollTop;
  $('#macro-mark').style.setProperty('--scroll', ta.scrollTop + 'px');
}

/* Shows a parse error "line L, column C: ..." by marking line L and selecting it. */
function showError(message) {
  say($('#macro-error'), message, 'error');
  const m = /line (\d+), column (\d+)/.exec(message);
  if (!m) {
    renderGutter(0);
    return;
  }
  const line = Number(m[1]), col = Number(m[2]);
  const all = lines();
  if (line < 1 || line > all.length) return;
  renderGutter(line);
  const ta = $('#macro-text');
  let start = 0;
  for (let i = 0; i < line - 1; i++) start += all[i].length + 1;
  const chars = Array.from(all[line - 1]);
  const colOffset = chars.slice(0, Math.max(0, col - 1)).join('').length;
  ta.focus();
  ta.setSelectionRange(start + colOffset, start + all[line - 1].length);
  const lh = parseFloat(getComputedStyle(ta).lineHeight) || 18;
  const top = (line - 1) * lh;
  if (top < ta.scrollTop || top > ta.scrollTop + ta.clientHeight - lh) ta.scrollTop = Math.max(0, top - ta.clientHeight / 2);
  syncScroll();
}

function clearError() {
  say($('#macro-error'), '');
  renderGutter(0);
}

async function editMacro(name) {
  const res = await api('GET', `/api/macros/${encodeURIComponent(name)}`);
  if (!res.ok) {
    say($('#macro-error'), errorText(res), 'error');
    return;
  }
  $('#macro-name').value = res.data.name;
  $('#macro-description').value = res.data.description || '';
  $('#macro-text').value = res.data.macro || '';
  clearError();
  $('#macro-editor-title').textContent = `Edit macro “${res.data.name}”`;
  $('#macro-text').focus();
}

function newMacro() {
  $('#macro-name').value = '';
  $('#macro-description').value = '';
  $('#macro-text').value = '';
  $('#macro-editor-title').textContent = 'New macro';
  clearError();
  $('#macro-name').focus();
}

async function save() {
  const name = $('#macro-name').value.trim();
  const macro = $('#macro-text').value;
  if (!NAME_RE.test(name)) {
    say($('#macro-error'), 'A name is 1-64 of a-z 0-9 . _ - (lower case).', 'error');
    renderGutter(0);
    $('#macro-name').focus();
    return;
  }
  $('#macro-save').disabled = true;
  const res = await api('PUT', `/api/macros/${encodeURIComponent(name)}`, { macro, description: $('#macro-description').value });
  $('#macro-save').disabled = false;
  if (!res.ok) {
    showError(errorText(res));
    return;
  }
  clearError();
  say($('#macro-error'), `Saved “${name}”.`, 'ok');
  $('#macro-editor-title').textContent = `Edit macro “${name}”`;
  loadMacros();
}

async function tryRun() {
  const macro = $('#macro-text').value;
  if (!macro.trim()) return;
  const res = await api('POST', '/api/keys', { macro });
  refreshJobs();
  if (!res.ok) showError(errorText(res));
  else {
    clearError();
    say($('#macro-error'), `Running as job ${res.data.id}`, 'ok');
  }
}

async function remove(name) {
  const ok = await confirmDialog({ title: 'Delete macro', message: `Delete the macro “${name}”? This cannot be undone.`, ok: 'Delete', danger: true });
  if (!ok) return;
  const res = await api('DELETE', `/api/macros/${encodeURIComponent(name)}`);
  if (!res.ok) say($('#macro-run-msg'), `${name}: ${errorText(res)}`, 'error');
  else say($('#macro-run-msg'), `Deleted “${name}”.`, 'ok');
  loadMacros();
}

export function init() {
  $('#macro-form').addEventListener('submit', (e) => {
    e.preventDefault();
    save();
  });
  $('#macro-new').addEventListener('click', newMacro);
  $('#macro-try').addEventListener('click', tryRun);
  const ta = $('#macro-text');
  ta.addEventListener('input', () => renderGutter(0));
  ta.addEventListener('scroll', syncScroll);
  renderGutter(0);
}

export function start() {
  loadMacros();
}

export function stop() {}
