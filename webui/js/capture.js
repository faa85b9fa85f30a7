// capture.js: "Capture my keyboard": physical keys (event.code) batched into macros for POST /api/keys.
import { keyName, isModifier } from './keymap.js';
import { sendKeys, keysError } from './keys.js';
import { $, say, enable } from './ui.js';

const BATCH_MS = 30;

let on = false;
const held = new Map(); /* code -> {name, alone}: modifiers down, in press order */
let steps = []; /* macro steps waiting to be sent */
let timer = null;
let inFlight = false;

function heldNames() {
  return [...held.values()].map((h) => h.name);
}

function push(step) {
  for (const h of held.values()) h.alone = false;
  steps.push(step);
  if (timer === null && !inFlight) timer = setTimeout(flush, BATCH_MS);
}

/* Sends what is waiting as one macro; what arrives meanwhile waits for the next request. */
async function flush() {
  timer = null;
  if (inFlight || !steps.length) return;
  const macro = steps.join('; ');
  steps = [];
  inFlight = true;
  const res = await sendKeys({ macro });
  inFlight = false;
  const status = $('#capture-status');
  if (res.ok) say(status, `Sent: ${macro.length > 80 ? macro.slice(0, 77) + '…' : macro}`, 'ok');
  else say(status, keysError(res), 'error');
  if (steps.length && timer === null) timer = setTimeout(flush, 0);
}

function onKeyDown(e) {
  if (!on) return;
  e.preventDefault();
  e.stopPropagation();
  const name = keyName(e.code);
  if (!name) {
    say($('#capture-status'), `Key ${e.code || e.key || '?'} has no USB name: not sent`, 'warn');
    return;
  }
  if (isModifier(e.code)) {
    if (!held.has(e.code)) held.set(e.code, { name, alone: true });
    return;
  }
  if (e.code === 'KeyQ' && e.ctrlKey && e.altKey && e.shiftKey) {
    /* The way out that keyboard users have: not forwarded. */
    held.clear();
    setOn(false);
    $('#capture-toggle').focus();
    return;
  }
  push([...heldNames(), name].join('+'));
}

function onKeyUp(e) {
  if (!on) return;
  e.preventDefault();
  e.stopPropagation();
  if (!isModifier(e.code)) return;
  const h = held.get(e.code);
  held.delete(e.code);
  if (h && h.alone) push([...heldNames(), h.name].join('+'));
}

function releaseAll() {
  held.clear();
  if (steps.length && timer === null && !inFlight) flush();
}

function paint() {
  const toggle = $('#capture-toggle');
  const area = $('#capture-area');
  toggle.setAttribute('aria-pressed', String(on));
  toggle.textContent = on ? 'Stop capturing' : 'Capture my keyboard';
  area.classList.toggle('armed', on);
  const focused = document.activeElement === area;
  area.classList.toggle('active', on && focused);
  $('#capture-hint').textContent = !on
    ? 'Off: turn on “Capture my keyboard”, then type here.'
    : focused
      ? 'Capturing: every key goes to the server, Esc too. To stop: click outside this box or press Ctrl+Alt+Shift+Q.'
      : 'Click here to send keys again.';
}

function setOn(value) {
  on = value;
  if (!on) releaseAll();
  paint();
}

export function init() {
  const area = $('#capture-area');
  $('#capture-toggle').addEventListener('click', () => {
    setOn(!on);
    if (on) area.focus();
  });
  area.addEventListener('keydown', onKeyDown);
  area.addEventListener('keyup', onKeyUp);
  area.addEventListener('focus', paint);
  area.addEventListener('blur', () => {
    releaseAll();
    setOn(false);
  });
  /* Clicking the toggle must not blur the area first (that would end capture, then restart it). */
  $('#capture-toggle').addEventListener('mousedown', (e) => {
    if (on && document.activeElement === area) e.preventDefault();
  });
  window.addEventListener('blur', releaseAll);
  paint();
}

export function start() {
  enable($('#capture-toggle'), true);
  setOn(false);
}

export function stop() {
  setOn(false);
  steps = [];
}
