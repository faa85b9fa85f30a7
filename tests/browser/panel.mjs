// Drives Debian's Chromium through one scenario of the browser panel served by gadgetd in the
// VM rig, as a user would: clicks, typing, file choosing. Prints one JSON line with what the
// page showed; the Python test beside the rig checks the server's side. Exits 1 on any error,
// including an error in the page's JavaScript console, a CSP violation or a request that left
// the server.
//   node panel.mjs SCENARIO   (env: GADGETD_URL, GADGETD_USER, GADGETD_PASSWORD,
//                              GADGETD_SHOTS: the screenshot directory, SCENARIO_ARG: input)
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const base = process.env.GADGETD_URL;
const user = process.env.GADGETD_USER;
const password = process.env.GADGETD_PASSWORD;
const shots = process.env.GADGETD_SHOTS;
const arg = process.env.SCENARIO_ARG || '';
const TIMEOUT = 30000;
// HTTP errors a scenario provokes on purpose and the page handles; Chromium logs each one.
// A 401 is the answer to a wrong password or to no session yet.
const allowed = new Set([401]);

function fail(message) {
  throw new Error(message);
}

async function login(page, name = user, pw = password) {
  await page.goto(base + '/');
  await page.locator('#login-form').waitFor({ state: 'visible', timeout: TIMEOUT });
  await page.fill('#login-user', name);
  await page.fill('#login-password', pw);
  await page.click('#login-submit');
  await page.locator('#panel').waitFor({ state: 'visible', timeout: TIMEOUT });
  const who = await page.textContent('#whoami');
  if (!who.includes(name)) fail(`#whoami says ${who}`);
  return who;
}

async function shot(page, name, locator) {
  const path = join(shots, name + '.png');
  if (locator) await page.locator(locator).screenshot({ path });
  else await page.screenshot({ path, fullPage: true });
}

// Resolves when FN (run in the page) returns something truthy, else fails with WHAT.
async function until(page, fn, what, argument, timeout = TIMEOUT) {
  try {
    const handle = await page.waitForFunction(fn, argument, { timeout, polling: 100 });
    return await handle.jsonValue();
  } catch (e) {
    fail(`${what}: ${e.message.split('\n')[0]}`);
  }
}

const scenarios = {
  // The login page, a wrong password, the panel, a phone-sized screen, the CSP at work.
  async login(page) {
    await page.goto(base + '/');
    await page.locator('#login-form').waitFor({ state: 'visible', timeout: TIMEOUT });
    await shot(page, 'login');
    await page.fill('#login-user', user);
    await page.fill('#login-password', 'not-the-password');
    await page.click('#login-submit');
    const refused = await until(page, () => {
      const t = document.querySelector('#login-error')?.textContent.trim();
      return t ? t : null;
    }, 'no error shown for a wrong password');
    const who = await login(page);
    await shot(page, 'panel');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await shot(page, 'panel-phone');
    await page.setViewportSize({ width: 1280, height: 900 });
    // A reload keeps the session (GET /api/session), logout ends it.
    await page.reload();
    await page.locator('#panel').waitFor({ state: 'visible', timeout: TIMEOUT });
    await page.click('#logout');
    await page.locator('#login-form').waitFor({ state: 'visible', timeout: TIMEOUT });
    return { refused, who, overflow };
  },

  async macro(page) {
    await login(page);
    const button = page.locator('button[data-macro="ctrl-alt-del"]');
    await button.waitFor({ state: 'visible', timeout: TIMEOUT });
    await shot(page, 'keys', '#section-keys');
    await button.click();
    // The job it started is listed, and ends done.
    await until(page, () => [...document.querySelectorAll('#jobs [data-job-id]')]
      .some((row) => /done/.test(row.textContent)), 'no finished job in #jobs');
    return { clicked: 'ctrl-alt-del' };
  },

  async paste(page) {
    await login(page);
    await page.locator('#paste-layout option[value="us"]').waitFor({ state: 'attached', timeout: TIMEOUT });
    await page.fill('#paste-text', arg);
    await page.selectOption('#paste-layout', 'us');
    await page.click('#paste-send');
    const status = await until(page, () => {
      const s = document.querySelector('#paste-status').textContent;
      return /done/i.test(s) ? s : null;
    }, 'the paste never said done');
    const progress = await page.evaluate(() => {
      const p = document.querySelector('#paste-progress');
      return p.value / p.max;
    });
    await shot(page, 'paste', '#section-keys');
    return { status, progress };
  },

  // The virtual keyboard (a latched Shift, Caps Lock whose LED the page then shows lit), then
  // capture mode with a German user's keyboard: the physical key right of T (code KeyY) makes
  // a "z" in the browser and must reach the server as that key, Y, whatever it prints there.
  async keyboard(page) {
    await login(page);
    const key = (code) => page.click(`#vkbd button[data-code="${code}"]`);
    await page.locator('#vkbd button[data-code="KeyA"]').waitFor({ state: 'visible', timeout: TIMEOUT });
    await key('ShiftLeft');
    const latched = await page.evaluate(() =>
      document.querySelector('#vkbd button[data-code="ShiftLeft"]').getAttribute('aria-pressed'));
    await key('KeyA');
    await key('KeyB');
    await key('CapsLock');
    await until(page, () => document.querySelector('#led-caps').classList.contains('on'),
      'the Caps Lock LED never lit');
    await shot(page, 'keyboard-caps', '#section-keys');
    await key('CapsLock');
    await until(page, () => !document.querySelector('#led-caps').classList.contains('on'),
      'the Caps Lock LED never went out');
    await page.click('#capture-toggle');
    await until(page, () => document.activeElement === document.querySelector('#capture-area'),
      'the capture area has no focus');
    const cdp = await page.context().newCDPSession(page);
    const press = async (code, k, vk) => {
      await cdp.send('Input.dispatchKeyEvent', { type: 'keyDown', code, key: k, text: k.length === 1 ? k : undefined, windowsVirtualKeyCode: vk });
      await cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', code, key: k, windowsVirtualKeyCode: vk });
    };
    await press('KeyY', 'z', 90);
    await press('Enter', 'Enter', 13);
    await until(page, () => /enter/.test(document.querySelector('#capture-status').textContent),
      'capture mode never sent the keys');
    await shot(page, 'keyboard-capture', '#section-keys');
    return { latched };
  },

  // A saved macro: a parse error is shown at its line, then saved, run and deleted.
  async macros(page) {
    allowed.add(400); // the refused save, which the page shows
    await login(page);
    await page.fill('#macro-name', 'panel-test');
    await page.fill('#macro-description', 'from the browser test');
    await page.fill('#macro-text', 'f12\nwait 2x\nenter');
    await page.click('#macro-save');
    const error = await until(page, () => {
      const t = document.querySelector('#macro-error').textContent;
      return /line 2/.test(t) ? t : null;
    }, 'no parse error at line 2');
    const marked = await page.evaluate(() => document.querySelector('#macro-gutter .bad')?.textContent);
    await shot(page, 'macro-error', '#section-keys');
    await page.fill('#macro-text', 'f12\nwait 100ms\nenter');
    await page.click('#macro-save');
    const run = page.locator('#macro-list button[data-macro="panel-test"]');
    await run.waitFor({ state: 'visible', timeout: TIMEOUT });
    await run.click();
    await until(page, () => [...document.querySelectorAll('#jobs [data-job-id]')]
      .some((row) => /done/.test(row.textContent)), 'the macro run never finished');
    await page.click('#macro-list button[data-delete-macro="panel-test"]');
    await page.locator('#confirm').waitFor({ state: 'visible', timeout: TIMEOUT });
    await page.click('#confirm-ok');
    await run.waitFor({ state: 'detached', timeout: TIMEOUT });
    return { error, marked };
  },

  // Runs the saved script ARG with its variable "who" filled in, and watches it finish.
  async script(page) {
    await login(page);
    const run = page.locator(`button[data-run-script="${arg}"]`);
    await run.waitFor({ state: 'visible', timeout: TIMEOUT });
    await run.click();
    const input = page.locator('#script-vars input[data-var="who"]');
    await input.waitFor({ state: 'visible', timeout: TIMEOUT });
    await input.fill('panel');
    await page.click('#script-start');
    const result = await until(page, () => {
      const t = document.querySelector('#script-result')?.textContent || '';
      return /done|fail|cancel/i.test(t) ? t : null;
    }, 'the script never finished', undefined, 60000);
    const steps = await page.evaluate(() => [...document.querySelectorAll('#script-steps li')].map((li) => li.textContent));
    await shot(page, 'scripts', '#section-scripts');
    return { result, steps };
  },

  // Chooses ARG (a local ISO) in the file picker, uploads it, inserts it as a CD-ROM.
  async upload(page) {
    await login(page);
    const name = arg.split('/').pop();
    await page.setInputFiles('#upload-file', arg);
    // Watch the progress bar from the page itself, every frame, not only at the end.
    await page.evaluate(() => {
      window.progressSeen = [];
      const bar = document.querySelector('#upload-progress');
      const tick = () => {
        window.progressSeen.push(Number(bar.value));
        if (window.progressSeen.length < 100000) requestAnimationFrame(tick);
      };
      tick();
    });
    await page.click('#upload-start');
    const status = await until(page, () => {
      const s = document.querySelector('#upload-status').textContent;
      return /100\s*%/.test(s) && /uploaded/i.test(s) ? s : null;
    }, 'the upload never reached 100%');
    const seen = await page.evaluate(() => window.progressSeen);
    const row = page.locator(`#images tr[data-image="${name}"]`);
    await row.waitFor({ state: 'visible', timeout: TIMEOUT });
    await shot(page, 'media-uploaded', '#section-media');
    await row.locator('.insert-cdrom').click();
    const media = await until(page, (n) => {
      const s = document.querySelector('#media-state').textContent;
      return s.includes(n) ? s : null;
    }, 'the medium never showed as inserted', name);
    await shot(page, 'media-inserted', '#section-media');
    return { status, max: Math.max(...seen), final: seen[seen.length - 1], media };
  },

  // Off: asks first, and Cancel presses nothing. Then On, which shows the state change.
  async power(page) {
    await login(page);
    await until(page, () => document.querySelector('#power-state')?.dataset.state === 'off',
      'the page does not show the server off');
    await shot(page, 'power-off', '#section-power');
    await page.click('#power-force-off');
    await page.locator('#confirm').waitFor({ state: 'visible', timeout: TIMEOUT });
    const question = await page.textContent('#confirm');
    await page.click('#confirm-cancel');
    await page.click('#power-on');
    await until(page, () => document.querySelector('#power-state').dataset.state === 'on',
      'the page never showed the server on', undefined, 60000);
    await shot(page, 'power-on', '#section-power');
    return { question };
  },

  // Types ARG into the terminal; returns the terminal's lines once the answer is there.
  async terminal(page) {
    await login(page);
    await until(page, () => /connected/i.test(document.querySelector('#console-status').textContent) &&
      !/dis|re/i.test(document.querySelector('#console-status').textContent),
    'the console never said connected');
    await page.click('#terminal');
    await page.keyboard.type(arg + '\n', { delay: 20 });
    const lines = await until(page, () => {
      const rows = [...document.querySelectorAll('#terminal .xterm-rows > div')].map((r) => r.textContent.trimEnd());
      return rows.includes('hi') ? rows : null;
    }, 'no line "hi" in the terminal');
    await shot(page, 'console', '#section-console');
    return { lines: lines.filter((l) => l.length) };
  },

  // A viewer sees everything and can change nothing.
  async viewer(page) {
    const [name, pw] = arg.split(':');
    const who = await login(page, name, pw);
    await page.locator('button[data-macro="ctrl-alt-del"]').waitFor({ state: 'visible', timeout: TIMEOUT });
    await page.waitForTimeout(500);
    const ids = ['#power-on', '#power-off', '#power-force-off', '#power-reset', '#power-cycle',
      '#paste-send', '#upload-start', 'button[data-macro="ctrl-alt-del"]', '#script-save',
      'button[data-run-script="web-demo"]'];
    const enabled = [];
    for (const id of ids) if (await page.locator(id).first().isEnabled()) enabled.push(id);
    await shot(page, 'viewer');
    return { who, enabled };
  },
};

async function main() {
  const scenario = scenarios[process.argv[2]];
  if (!scenario) fail(`usage: node panel.mjs ${Object.keys(scenarios).join('|')}`);
  mkdirSync(shots, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'gadgetd-chromium-'));
  // A fresh, empty profile each time: nothing cached or remembered from a run before.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-quic',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const problems = [];
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    page.on('console', (m) => {
      const status = /the server responded with a status of (\d+)/.exec(m.text());
      if (m.type() === 'error' && !(status && allowed.has(Number(status[1])))) problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    const origin = new URL(base);
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.host !== origin.host && u.protocol !== 'data:') problems.push(`request elsewhere: ${r.url()}`);
    });
    const result = await scenario(page);
    // The page's own files must all have come with the panel's CSP.
    const csp = await page.evaluate(async () => (await fetch('/')).headers.get('content-security-policy'));
    if (!csp || !/script-src 'self'/.test(csp) || /script-src[^;]*unsafe/.test(csp)) problems.push(`CSP: ${csp}`);
    if (problems.length) fail(problems.join('\n'));
    console.log(JSON.stringify(result));
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
