// status.js: the header: host USB state (/api/status), keyboard LEDs (/api/keyboard), admin USB plug toggle.
import { api, can, errorText, poller } from './api.js';
import { $, say, confirmDialog, enable } from './ui.js';

let statusPoll = null;
let ledPoll = null;
let gadget = null;

function renderGadget() {
  const usb = $('#usb-state');
  let text = 'USB ?', state = 'unknown';
  if (gadget) {
    if (!gadget.connected) [text, state] = ['USB unplugged', 'off'];
    else if (gadget.configured) [text, state] = ['USB configured', 'on'];
    else [text, state] = [`USB ${gadget.host_state || 'not configured'}`, 'warn'];
  }
  usb.textContent = text;
  usb.dataset.state = state;
  usb.title = gadget ? `UDC ${gadget.udc || '?'}, host state: ${gadget.host_state || '?'}; functions: ${(gadget.functions || []).join(', ')}` : '';
  const toggle = $('#gadget-toggle');
  toggle.hidden = !can('admin');
  if (gadget) {
    toggle.textContent = gadget.connected ? 'Unplug USB' : 'Plug in USB';
    toggle.setAttribute('aria-pressed', String(Boolean(gadget.connected)));
  }
}

async function loadStatus() {
  const res = await api('GET', '/api/status');
  if (!res.ok) return;
  gadget = res.data.gadget || null;
  renderGadget();
  $('#version').textContent = res.data.version ? `gadgetd ${res.data.version}` : '';
}

function setLed(id, lit, label) {
  const led = $(id);
  led.classList.toggle('on', Boolean(lit));
  led.title = `${label}: ${lit === undefined ? 'unknown' : lit ? 'on' : 'off'}`;
  led.setAttribute('aria-label', led.title);
}

async function loadLeds() {
  const res = await api('GET', '/api/keyboard');
  const leds = res.ok && res.data.leds ? res.data.leds : {};
  setLed('#led-num', leds.num_lock, 'Num Lock');
  setLed('#led-caps', leds.caps_lock, 'Caps Lock');
  setLed('#led-scroll', leds.scroll_lock, 'Scroll Lock');
  const host = $('#keys-host');
  if (res.ok) {
    host.textContent = res.data.host_online ? `Server takes keys · layout ${res.data.layout}` : 'Server does not take keys now (off, asleep or unplugged)';
    host.dataset.state = res.data.host_online ? 'on' : 'off';
  } else if (res.error.code !== 'logged_out') {
    host.textContent = errorText(res);
    host.dataset.state = 'off';
    if (res.error.code === 'no_keyboard') ledPoll.stop(); /* it will not appear until a restart */
  }
}

async function toggleGadget() {
  const btn = $('#gadget-toggle');
  const connect = !(gadget && gadget.connected);
  if (!connect) {
    const ok = await confirmDialog({
      title: 'Unplug USB',
      message: 'Unbind the gadget as if the cable were pulled? The server loses the keyboard, the drive and the console until you plug it in again.',
      ok: 'Unplug', danger: true,
    });
    if (!ok) return;
  }
  enable(btn, false);
  const res = await api('POST', '/api/gadget', { connected: connect });
  enable(btn, true);
  if (res.ok) {
    gadget = res.data;
    renderGadget();
  } else {
    say($('#header-msg'), `USB: ${errorText(res)}`, 'error');
  }
  statusPoll.now();
}

export function init() {
  statusPoll = poller(loadStatus, 3000);
  ledPoll = poller(loadLeds, 1000);
  $('#gadget-toggle').addEventListener('click', toggleGadget);
}

export function start() {
  gadget = null;
  renderGadget();
  statusPoll.start();
  ledPoll.start();
}

export function stop() {
  statusPoll.stop();
  ledPoll.stop();
}
