// What the browser test and the first-paint benchmark share: the real `regrooter serve` on the
// manual clock in a fresh data directory, Debian's Chromium through playwright-core, and small
// helpers to talk to both. Not a test file itself (node --test runs `*.test.mjs`).
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';

export const root = resolve(import.meta.dirname, '../..');
const tools = process.env.REGROOTER_BROWSER_TOOLS ?? join(root, 'target/tools/node');
export const require = createRequire(join(tools, 'package.json'));
const { chromium } = require('playwright-core');

async function freePort() {
  return new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/// Starts the platform (its address is `localhost`, which passkeys need) and Chromium.
export async function startPlatform({ start, env = {} }) {
  const binary = process.env.REGROOTER_BIN ?? join(root, 'target/debug/regrooter');
  const data = mkdtempSync(join(tmpdir(), 'regrooter-browser-'));
  const port = await freePort();
  const base = `http://localhost:${port}`;
  const server = spawn(binary, ['serve', '--clock', 'manual', '--start', start, '--addr', `127.0.0.1:${port}`, '--data', data], {
    env: { ...process.env, REGROOTER_PUBLIC_URL: base, RUST_LOG: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; i < 200; i++) {
    try { if ((await fetch(`${base}/healthz`)).ok) break; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  const browser = await chromium.launch({
    executablePath: process.env.REGROOTER_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const platform = {
    base, browser, data,
    async now() {
      return (await (await fetch(`${base}/_dev/clock`)).json()).now;
    },
    /// A development token from the CLI (`regrooter token`).
    token(args) {
      return execFileSync(binary, ['token', '--data', data, ...args], { encoding: 'utf8' }).trim().split('\n').pop();
    },
    async api(method, path, bearer, body) {
      const r = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
      return text ? JSON.parse(text) : null;
    },
    async advance(duration) {
      const r = await fetch(`${base}/_dev/clock`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ advance: duration }),
      });
      assert.equal(r.status, 200, await r.text());
      return r;
    },
    async stop() {
      await browser.close();
      server.kill();
      rmSync(data, { recursive: true, force: true });
    },
  };
  return platform;
}

/// Clicks what leads to another page (a link, a form's button) and waits until that page has
/// loaded, so that what is read next is read from it and not from the page before.
export async function follow(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}
