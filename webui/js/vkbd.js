// vkbd.js: the on-screen PC keyboard with latching/locking modifiers, sending chords via POST /api/keys.
import { api } from './api.js';
import { keyName, isModifier } from './keymap.js';
import { sendKeys, keysError } from './keys.js';
import { $, $$, el, say, needs } from './ui.js';

/*
 * Layout in quarter-key columns. Each row: [x0, items...]; an item is [code, label, width=1,
 * height=1, shiftLabel] or a number (a gap, in key units).
 */
const F = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => ['F' + (a + i), 'F' + (a + i)]);
const MAIN = [
  [['Escape', 'Esc'], 1, ...F(1, 4), 0.5, ...F(5, 8), 0.5, ...F(9, 12)],
  [['Backquote', '`', 1, 1, '~'], ['Digit1', '1', 1, 1, '!'], ['Digit2', '2', 1, 1, '@'], ['Digit3', '3', 1, 1, '#'],
    ['Digit4', '4', 1, 1, '$'], ['Digit5', '5', 1, 1, '%'], ['Digit6', '6', 1, 1, '^'], ['Digit7', '7', 1, 1, '&'],
    ['Digit8', '8', 1, 1, '*'], ['Digit9', '9', 1, 1, '('], ['Digit0', '0', 1, 1, ')'], ['Minus', '-', 1, 1, '_'],
    ['Equal', '=', 1, 1, '+'], ['Backspace', '⌫ Backspace', 2]],
  [['Tab', 'Tab ⇥', 1.5], ...'QWERTYUIOP'.split('').map((c) => ['Key' + c, c]), ['BracketLeft', '[', 1, 1, '{'],
    ['BracketRight', ']', 1, 1, '}'], ['Backslash', '\\', 1.5, 1, '|']],
  [['CapsLock', 'Caps Lock', 1.75], ...'ASDFGHJKL'.split('').map((c) => ['Key' + c, c]), ['Semicolon', ';', 1, 1, ':'],
    ['Quote', "'", 1, 1, '"'], ['Enter', 'Enter ↵', 2.25]],
  [['ShiftLeft', '⇧ Shift', 1.25], ['IntlBackslash', '\\', 1, 1, '|'], ...'ZXCVBNM'.split('').map((c) => ['Key' + c, c]),
    ['Comma', ',', 1, 1, '<'], ['Period', '.', 1, 1, '>'], ['Slash', '/', 1, 1, '?'], ['ShiftRight', '⇧ Shift', 2.75]],
  [['ControlLeft', 'Ctrl', 1.25], ['MetaLeft', 'Win', 1.25], ['AltLeft', 'Alt', 1.25], ['Space', 'Space', 6.25],
    ['AltRight', 'AltGr', 1.25], ['MetaRight', 'Win', 1.25], ['ContextMenu', 'Menu', 1.25], ['ControlRight', 'Ctrl', 1.25]],
];
const NAV = [
  [['PrintScreen', 'PrtSc'], ['ScrollLock', 'ScrLk'], ['Pause', 'Pause']],
  [['Insert', 'Ins'], ['Home', 'Home'], ['PageUp', 'PgUp']],
  [['Delete', 'Del'], ['End', 'End'], ['PageDown', 'PgDn']],
  [],
  [1, ['ArrowUp', '↑']],
  [['ArrowLeft', '←'], ['ArrowDown', '↓'], ['ArrowRight', '→']],
];
const PAD = [
  [],
  [['NumLock', 'Num'], ['NumpadDivide', '/'], ['NumpadMultiply', '*'], ['NumpadSubtract', '−']],
  [['Numpad7', '7'], ['Numpad8', '8'], ['Numpad9', '9'], ['NumpadAdd', '+', 1, 2]],
  [['Numpad4', '4'], ['Numpad5', '5'], ['Numpad6', '6']],
  [['Numpad1', '1'], ['Numpad2', '2'], ['Numpad3', '3'], ['NumpadEnter', 'Ent', 1, 2]],
  [['Numpad0', '0', 2], ['NumpadDecimal', '.']],
];
const FX = [[...F(13, 24)]];

const ARIA = {
  Backquote: 'Backquote', Minus: 'Minus', Equal: 'Equal', BracketLeft: 'Left bracket', BracketRight: 'Right bracket',
  Backslash: 'Backslash', IntlBackslash: 'ISO key left of Z', Semicolon: 'Semicolon', Quote: 'Quote', Comma: 'Comma',
  Period: 'Period', Slash: 'Slash', MetaLeft: 'Left Windows', MetaRight: 'Right Windows', AltRight: 'AltGr',
  ControlLeft: 'Left Ctrl', ControlRight: 'Right Ctrl', ShiftLeft: 'Left Shift', ShiftRight: 'Right Shift',
  AltLeft: 'Left Alt', ArrowUp: 'Up', ArrowDown: 'Down', ArrowLeft: 'Left', ArrowRight: 'Right',
  NumpadDivide: 'Keypad divide', NumpadMultiply: 'Keypad multiply', NumpadSubtract: 'Keypad minus',
  NumpadAdd: 'Keypad plus', NumpadEnter: 'Keypad Enter', NumpadDecimal: 'Keypad decimal', ContextMenu: 'Menu',
};

/* Latched modifiers (code -> 'latched' | 'locked'), in the order they were pressed. */
const mods = new Map();
const latchTime = new Map();
const DOUBLE_MS = 400;

function keyButton(item, x, row) {
  const [code, label, w = 1, h = 1, shift] = item;
  const name = keyName(code);
  const b = el('button', {
    type: 'button', class: 'key' + (isModifier(code) ? ' mod' : '') + (label.length > 2 ? ' wide-label' : ''),
    dataset: { code }, title: name || code,
    'aria-label': ARIA[code] || (code.startsWith('Numpad') ? 'Keypad ' + label : label.replace(/[^\w ]/g, '').trim() || label),
  }, shift ? el('span', { class: 'shift' }, shift) : null, el('span', { class: 'main' }, label));
  if (isModifier(code)) b.setAttribute('aria-pressed', 'false');
  b.style.gridColumn = `${x + 1} / span ${Math.round(w * 4)}`;
  b.style.gridRow = `${row + 1} / span ${h}`;
  return needs(b, 'operator');
}

/* Lays out ROWS starting at quarter column X0 into PARENT. */
function layout(parent, rows, x0, rowOffset = 0) {
  rows.forEach((items, r) => {
    let x = x0;
    for (const item of items) {
      if (typeof item === 'number') {
        x += Math.round(item * 4);
        continue;
      }
      parent.append(keyButton(item, x, r + rowOffset));
      x += Math.round((item[2] || 1) * 4);
    }
  });
}

function paintMods() {
  for (const b of $$('#vkbd .key.mod')) {
    const s = mods.get(b.dataset.code);
    b.classList.toggle('latched', s === 'latched');
    b.classList.toggle('locked', s === 'locked');
    b.setAttribute('aria-pressed', s ? 'true' : 'false');
  }
  const names = [...mods.keys()].map((c) => keyName(c)).join('+');
  $('#vkbd-mods').textContent = names ? `Held for the next key: ${names}` : '';
}

function clickMod(code) {
  const s = mods.get(code);
  const now = performance.now();
  if (s === 'locked') mods.delete(code);
  else if (s === 'latched' && now - (latchTime.get(code) || 0) < DOUBLE_MS) mods.set(code, 'locked');
  else if (s === 'latched') mods.delete(code);
  else {
    mods.set(code, 'latched');
    latchTime.set(code, now);
  }
  paintMods();
}

async function clickKey(code, btn) {
  const chord = [...[...mods.keys()].map(keyName), keyName(code)];
  for (const [c, s] of mods) if (s === 'latched') mods.delete(c);
  paintMods();
  btn.classList.add('sent');
  setTimeout(() => btn.classList.remove('sent'), 150);
  const res = await sendKeys({ keys: chord });
  const msg = $('#vkbd-msg');
  if (res.ok) say(msg, `Sent ${chord.join('+')}`, 'ok');
  else say(msg, `${chord.join('+')}: ${keysError(res)}`, 'error');
}

/* Disables keys the server does not name (an older gadgetd), once logged in. */
async function checkNames() {
  const res = await api('GET', '/api/keyboard/keys');
  if (!res.ok || !Array.isArray(res.data.keys)) return;
  const known = new Set(res.data.keys.map((k) => String(k).toLowerCase()));
  for (const b of $$('#vkbd .key')) {
    if (!known.has(keyName(b.dataset.code))) {
      b.disabled = true;
      b.title = 'this gadgetd does not know the key';
    }
  }
}

export function init() {
  const root = $('#vkbd');
  const fx = el('div', { class: 'vkbd-grid vkbd-fx', id: 'vkbd-fx', hidden: true });
  layout(fx, FX, 0);
  const grid = el('div', { class: 'vkbd-grid vkbd-main' });
  layout(grid, MAIN, 0);
  layout(grid, NAV, 62);
  const pad = el('div', { class: 'vkbd-grid vkbd-pad', id: 'vkbd-pad', hidden: true });
  layout(pad, PAD, 0);
  root.replaceChildren(fx, el('div', { class: 'vkbd-row' }, grid, pad));
  root.addEventListener('click', (e) => {
    const b = e.target.closest('button.key');
    if (!b || b.disabled) return;
    if (isModifier(b.dataset.code)) clickMod(b.dataset.code);
    else clickKey(b.dataset.code, b);
  });
  const fxToggle = $('#vkbd-fx-toggle');
  fxToggle.addEventListener('click', () => {
    fx.hidden = !fx.hidden;
    fxToggle.setAttribute('aria-pressed', String(!fx.hidden));
  });
  const padToggle = $('#vkbd-pad-toggle');
  padToggle.addEventListener('click', () => {
    pad.hidden = !pad.hidden;
    root.classList.toggle('with-pad', !pad.hidden);
    padToggle.setAttribute('aria-pressed', String(!pad.hidden));
  });
  $('#vkbd-release').addEventListener('click', () => {
    mods.clear();
    paintMods();
  });
}

export function start() {
  mods.clear();
  paintMods();
  checkNames();
}

export function stop() {
  mods.clear();
}
