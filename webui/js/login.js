// login.js: the login form (POST /api/login), the who-am-I line and logout (POST /api/logout).
import { api, session } from './api.js';
import { $, say } from './ui.js';

let onLogin = () => {};
let onLogout = () => {};

/* Shows the login form (with MESSAGE, e.g. why the session ended). */
export function showLogin(message = '') {
  $('#panel').hidden = true;
  $('#boot').hidden = true;
  $('#login').hidden = false;
  say($('#login-error'), message, message ? 'error' : '');
  $('#login-password').value = '';
  enableForm(true);
  ($('#login-user').value ? $('#login-password') : $('#login-user')).focus();
}

function enableForm(on) {
  $('#login-submit').disabled = !on;
  $('#login-submit').textContent = on ? 'Log in' : 'Checking…';
}

/* Remembers who is logged in (a login or GET /api/session reply). */
export function adopt(data) {
  session.user = data.user;
  session.role = data.role;
  session.csrf = data.csrf_token || null;
  $('#whoami').replaceChildren(
    Object.assign(document.createElement('span'), { className: 'user', textContent: data.user }),
    ' ',
    Object.assign(document.createElement('span'), { className: `role role-${data.role}`, textContent: data.role }),
  );
  $('#whoami').title = `Logged in as ${data.user} (${data.role})${data.via && data.via !== 'session' ? ` via ${data.via}` : ''}`;
}

async function submit(e) {
  e.preventDefault();
  const user = $('#login-user').value.trim();
  const password = $('#login-password').value;
  if (!user || !password) {
    say($('#login-error'), 'Enter a user name and a password.', 'error');
    return;
  }
  enableForm(false);
  say($('#login-error'), '');
  const res = await api('POST', '/api/login', { user, password });
  enableForm(true);
  if (res.ok) {
    $('#login-password').value = '';
    adopt(res.data);
    onLogin(res.data);
    return;
  }
  let text;
  if (res.status === 401) text = 'Wrong user name or password.';
  else if (res.status === 429) {
    const after = res.error.retryAfter;
    text = `Too many failed attempts from this address: wait${after ? ` ${after} s` : ''} and try again.`;
  } else text = res.error.message || `Login failed (HTTP ${res.status}).`;
  say($('#login-error'), text, 'error');
  $('#login-password').select();
}

async function logout() {
  $('#logout').disabled = true;
  await api('POST', '/api/logout');
  $('#logout').disabled = false;
  session.user = null;
  session.role = null;
  session.csrf = null;
  onLogout();
  showLogin('');
}

export function init(handlers) {
  onLogin = handlers.onLogin;
  onLogout = handlers.onLogout;
  $('#login-form').addEventListener('submit', submit);
  $('#logout').addEventListener('click', logout);
}
