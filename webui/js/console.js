// console.js: the serial console: xterm.js over the /api/console/ws WebSocket, reconnecting with backoff.
import { api, can, session } from './api.js';
import { $, say } from './ui.js';

const FONT = 'ui-monospace, "Cascadia Mono", "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace';

let term = null;
let fit = null;
let ws = null;
let wanted = false; /* connected while logged in */
let retry = null;
let backoff = 1000;
const encoder = new TextEncoder();

function status(text, kind) {
  say($('#console-status'), text, kind);
  $('#console-status').dataset.state = kind === 'ok' ? 'open' : kind === 'error' ? 'closed' : 'connecting';
}

function wsUrl() {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/console/ws`;
}

function createTerminal() {
  if (term) return true;
  if (typeof window.Terminal !== 'function') {
    status('the terminal library did not load', 'error');
    return false;
  }
  term = new window.Terminal({
    scrollback: 5000,
    fontFamily: FONT,
    fontSize: 13,
    cursorBlink: true,
    allowProposedApi: false,
    theme: { background: '#0b0f14', foreground: '#d7dde5', cursor: '#7cc4ff', selectionBackground: '#2c4a6b' },
  });
  if (window.FitAddon && typeof window.FitAddon.FitAddon === 'function') {
    fit = new window.FitAddon.FitAddon();
    term.loadAddon(fit);
  }
  term.open($('#terminal'));
  const send = (data) => {
    if (ws && ws.readyState === WebSocket.OPEN && can('operator')) ws.send(data);
  };
  term.onData((d) => send(encoder.encode(d)));
  term.onBinary((d) => send(Uint8Array.from(d, (c) => c.charCodeAt(0) & 0xff)));
  let pending = false;
  const refit = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      if (fit && $('#terminal').offsetParent !== null) {
        try {
          fit.fit();
        } catch {
          /* not laid out yet */
        }
      }
    });
  };
  new ResizeObserver(refit).observe($('#terminal'));
  refit();
  return true;
}

function connect() {
  clearTimeout(retry);
  retry = null;
  if (!wanted || session.user === null) return;
  status('connecting…', 'busy');
  let opened = false;
  const sock = new WebSocket(wsUrl());
  sock.binaryType = 'arraybuffer';
  ws = sock;
  sock.addEventListener('open', () => {
    if (ws !== sock) return;
    opened = true;
    backoff = 1000;
    term.reset(); /* the server replays its recent output first */
    status(can('operator') ? 'connected' : 'connected (read-only: viewers cannot type)', 'ok');
  });
  sock.addEventListener('message', (e) => {
    if (ws !== sock) return;
    if (e.data instanceof ArrayBuffer) term.write(new Uint8Array(e.data));
    else if (typeof e.data === 'string') term.write(e.data);
  });
  sock.addEventListener('close', async (e) => {
    if (ws !== sock) return;
    ws = null;
    if (!wanted) return;
    if (!opened) {
      /* Refused at the handshake: the session may be gone (api() then shows the login), or
         the gadget may have no serial function at all. */
      const res = await api('GET', '/api/status');
      if (!wanted || session.user === null || res.status === 401) return;
      if (res.ok && res.data.console === null) {
        status('no serial console: the gadget has no acm function', 'error');
        return;
      }
    }
    const secs = Math.round(backoff / 1000);
    status(`connection lost${e.code === 1001 ? ' (gadgetd stopped)' : ''}: reconnecting in ${secs} s…`, 'error');
    retry = setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 30000);
  });
}

export function init() {
  $('#console-reconnect').addEventListener('click', () => {
    backoff = 1000;
    if (ws) {
      const old = ws;
      ws = null;
      old.close();
    }
    connect();
  });
  $('#console-clear').addEventListener('click', () => term && term.clear());
}

export function start() {
  if (!createTerminal()) return;
  term.options.disableStdin = !can('operator');
  $('#console-readonly').hidden = can('operator');
  wanted = true;
  backoff = 1000;
  connect();
}

export function stop() {
  wanted = false;
  clearTimeout(retry);
  retry = null;
  if (ws) {
    const old = ws;
    ws = null;
    old.close();
  }
  status('closed', 'error');
}
