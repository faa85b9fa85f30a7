// power.js: the Power panel: state LED (GET /api/power, polled) and the ATX buttons (POST /api/power).
import { api, errorText, poller } from './api.js';
import { $, $$, enable, say, confirmDialog, fmtAgo, fmtTime } from './ui.js';

const STATES = new Set(['on', 'off', 'sleeping', 'unknown']);

const ACTIONS = {
  on: { label: 'Power on', confirm: null, busy: 'Pressing the power button, waiting for the power LED…' },
  off: { label: 'Shut down', confirm: 'Press the power button briefly so the operating system shuts down?', busy: 'Pressed the power button: waiting for the server to shut down…' },
  'force-off': { label: 'Force off', confirm: 'Hold the power button until the server is off? Unsaved data on the server is lost.', busy: 'Holding the power button (about 5 s)…' },
  reset: { label: 'Reset', confirm: 'Press the reset button? The server restarts at once without shutting down.', busy: 'Pressing the reset button…' },
  cycle: { label: 'Power cycle', confirm: 'Force the server off, then power it on again?', busy: 'Power cycling: forcing off, then on…' },
};

let pollTimer = null;
let busy = false;
let power = null;

function render() {
  const state = power && STATES.has(power.state) ? power.state : 'unknown';
  const badge = $('#power-state');
  badge.textContent = state;
  badge.dataset.state = state;
  const hdr = $('#hdr-power');
  hdr.dataset.state = state;
  hdr.textContent = `Power ${state}`;
  $('#power-since').textContent = power && power.since ? `since ${fmtTime(power.since)} (${fmtAgo(power.since)})` : '';
  const notes = [];
  if (power && !power.buttons_configured) notes.push('No ATX lines are configured ([power]): the buttons cannot press anything.');
  else if (power && !power.led_configured) notes.push('No power LED line: the state is unknown, and On, Shut down and Cycle are refused.');
  $('#power-note').textContent = notes.join(' ');
}

async function load() {
  const res = await api('GET', '/api/power');
  if (res.ok) {
    power = res.data;
    render();
  } else if (res.error.code !== 'logged_out') {
    power = null;
    render();
    if (!busy) say($('#power-msg'), errorText(res), 'error');
  }
}

function setBusy(value) {
  busy = value;
  for (const b of $$('#section-power .power-btn')) enable(b, !value);
  $('#power-spinner').hidden = !value;
}

async function act(action) {
  if (busy) return;
  const a = ACTIONS[action];
  if (a.confirm) {
    const ok = await confirmDialog({ title: a.label, message: a.confirm, ok: a.label, danger: true });
    if (!ok) return;
  }
  setBusy(true);
  const msg = $('#power-msg');
  say(msg, a.busy, 'busy');
  const res = await api('POST', '/api/power', { action });
  setBusy(false);
  if (res.ok) {
    power = { ...power, ...res.data };
    render();
    const m = res.data.message || (res.data.changed ? `${a.label}: done` : `${a.label}: nothing to do`);
    say(msg, m, res.data.changed === false ? 'warn' : 'ok');
  } else {
    const hints = {
      power_busy: 'another power action is running',
      power_timeout: 'the server did not turn off in time and is left on',
      no_power_led: 'this needs the power LED line, which is not configured',
    };
    const hint = hints[res.error.code];
    say(msg, `${a.label}: ${errorText(res)}${hint && !errorText(res).includes(hint) ? ` (${hint})` : ''}`, 'error');
  }
  pollTimer.now();
}

export function init() {
  pollTimer = poller(load, 1000);
  for (const action of Object.keys(ACTIONS)) {
    $(`#power-${action}`).addEventListener('click', () => act(action));
  }
}

export function start() {
  setBusy(busy);
  pollTimer.start();
}

export function stop() {
  pollTimer.stop();
}
