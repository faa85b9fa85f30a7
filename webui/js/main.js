// main.js: start-up: asks GET /api/session, then shows the login form or the panel and starts every panel.
import { api, onAuthLost, stopAllPollers } from './api.js';
import { $, applyRole, initConfirm, closeConfirm } from './ui.js';
import * as login from './login.js';
import * as status from './status.js';
import * as jobs from './jobs.js';
import * as keys from './keys.js';
import * as macros from './macros.js';
import * as vkbd from './vkbd.js';
import * as capture from './capture.js';
import * as media from './media.js';
import * as power from './power.js';
import * as scripts from './scripts.js';
import * as konsole from './console.js';

const panels = [status, jobs, keys, macros, vkbd, capture, media, power, scripts, konsole];

function enterPanel() {
  $('#boot').hidden = true;
  $('#login').hidden = true;
  $('#panel').hidden = false;
  applyRole();
  document.body.dataset.role = $('#whoami .role') ? $('#whoami .role').textContent : '';
  for (const p of panels) {
    try {
      p.start();
    } catch (e) {
      console.warn('panel start failed', e);
    }
  }
}

function leavePanel() {
  stopAllPollers();
  closeConfirm();
  for (const p of panels) {
    try {
      p.stop();
    } catch (e) {
      console.warn('panel stop failed', e);
    }
  }
}

async function boot() {
  initConfirm();
  for (const p of panels) p.init();
  login.init({ onLogin: enterPanel, onLogout: leavePanel });
  onAuthLost((error) => {
    leavePanel();
    login.showLogin(error && error.code === 'session_expired' ? 'Your session ended: log in again.' : '');
  });
  const res = await api('GET', '/api/session');
  if (res.ok && res.data && res.data.user) {
    login.adopt(res.data);
    enterPanel();
  } else {
    login.showLogin(res.status === 0 ? 'Cannot reach gadgetd.' : res.status === 401 || res.status === 403 ? '' : res.error.message);
  }
}

boot();
