// ui.js: small DOM helpers shared by the panels: elements, the confirm dialog, role guards, formats.
import { can } from './api.js';

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

/* el('button', {class: 'btn', onclick: f, dataset: {x: 1}}, 'text', child...) */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k in node && typeof v !== 'string') node[k] = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : String(c));
  }
  return node;
}

/* ---- roles: controls marked data-needs="operator|admin" are disabled for lesser roles ---- */

function roleTitle(node) {
  return `needs the ${node.dataset.needs} role`;
}

/* Enables or disables NODE, never enabling what the role forbids. */
export function enable(node, on = true) {
  const allowed = !node.dataset.needs || can(node.dataset.needs);
  node.disabled = !on || !allowed;
}

/* Marks NODE as needing ROLE and applies it now; returns NODE. */
export function needs(node, role) {
  node.dataset.needs = role;
  applyRoleTo(node);
  return node;
}

function applyRoleTo(node) {
  const allowed = can(node.dataset.needs);
  if (node.dataset.baseTitle === undefined) node.dataset.baseTitle = node.getAttribute('title') || '';
  if (allowed) {
    if (node.dataset.baseTitle) node.title = node.dataset.baseTitle;
    else node.removeAttribute('title');
    node.classList.remove('role-locked');
  } else {
    node.title = roleTitle(node);
    node.classList.add('role-locked');
    if ('disabled' in node) node.disabled = true;
  }
}

/* After a login: every marked control follows the new role. */
export function applyRole(root = document) {
  for (const node of $$('[data-needs]', root)) {
    const wasLocked = node.classList.contains('role-locked');
    applyRoleTo(node);
    if (wasLocked && can(node.dataset.needs) && 'disabled' in node && !node.dataset.keepDisabled) {
      node.disabled = false;
    }
  }
}

/* ---- the one confirm dialog ---- */

let pending = null;

/* Asks MESSAGE in #confirm; resolves true for OK. */
export function confirmDialog({ title = 'Are you sure?', message = '', ok = 'OK', danger = false } = {}) {
  const dlg = $('#confirm');
  if (pending) pending(false);
  $('#confirm-title').textContent = title;
  $('#confirm-message').textContent = message;
  const okBtn = $('#confirm-ok');
  okBtn.textContent = ok;
  okBtn.classList.toggle('danger', danger);
  okBtn.classList.toggle('primary', !danger);
  return new Promise((resolve) => {
    pending = (v) => {
      pending = null;
      if (dlg.open) dlg.close();
      resolve(v);
    };
    if (!dlg.open) dlg.showModal();
    (danger ? $('#confirm-cancel') : okBtn).focus();
  });
}

export function initConfirm() {
  const dlg = $('#confirm');
  $('#confirm-ok').addEventListener('click', () => pending && pending(true));
  $('#confirm-cancel').addEventListener('click', () => pending && pending(false));
  dlg.addEventListener('close', () => pending && pending(false));
  dlg.addEventListener('cancel', (e) => {
    e.preventDefault();
    if (pending) pending(false);
  });
}

export function closeConfirm() {
  if (pending) pending(false);
}

/* ---- messages and formats ---- */

/* Sets NODE's text and its ok/error/busy look. */
export function say(node, text, kind = '') {
  node.textContent = text || '';
  node.classList.remove('ok', 'error', 'busy', 'warn');
  if (kind && text) node.classList.add(kind);
}

export function humanBytes(n) {
  if (n === null || n === undefined || !Number.isFinite(Number(n))) return '?';
  n = Number(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)} ${units[i]}`;
}

export function fmtDuration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/* Unix seconds -> local time (with the date when not today). */
export function fmtTime(unix) {
  if (!unix) return '';
  const d = new Date(unix * 1000);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString() : d.toLocaleString();
}

/* Unix seconds -> "5 min ago". */
export function fmtAgo(unix) {
  if (!unix) return '';
  const s = Math.max(0, Date.now() / 1000 - unix);
  if (s < 60) return `${Math.floor(s)} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min ago`;
  return `${Math.floor(s / 86400)} d ago`;
}
