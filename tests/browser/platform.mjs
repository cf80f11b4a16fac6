// What the browser test and the first-paint benchmark share: the real `regrooter serve` on the
// manual clock in a fresh data directory, Debian's Chromium through playwright-core, and small
// helpers to talk to both. Not a test file itself (node --test runs `*.test.mjs`).
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';

export const root = resolve(import.meta.dirname, '../..');
const tools = process.env.REGROOTER_BROWSER_TOOLS ?? join(root, 'target/tools/node');
export const require = createRequire(join(tools, 'package.json'));
const { chromium } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const shots = join(root, 'target/browser');
mkdirSync(shots, { recursive: true });

/// RFC 6238: six digits, 30-second steps, HMAC-SHA1 over the base32 secret.
export function totp(secretBase32, at) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secretBase32.replace(/=+$/, '').toUpperCase()) {
    bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.parse(at) / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return code.toString().padStart(6, '0');
}

/// axe-core on the page now open. Its source goes in through the DevTools protocol (as
/// `page.evaluate`), which the pages' CSP does not govern; a `<script>` tag it would refuse.
export async function checkAccessibility(context, page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => await globalThis.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), [], `axe on ${name}`);
}

/// Screenshot of the open page in both languages (the switch on the page), axe on each.
export async function record(context, page, name) {
  // The manual clock stands still unless moved, and with it the edge's rate-limit buckets: a
  // minute per page keeps this browser within the public pages' quota.
  await fetch(`${new URL(page.url()).origin}/_dev/clock`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advance: 'PT1M' }),
  });
  const url = new URL(page.url());
  for (const lang of ['de', 'en']) {
    url.searchParams.set('lang', lang);
    await page.goto(url.toString());
    assert.equal(await page.getAttribute('html', 'lang'), lang, `${name} in ${lang}`);
    await page.screenshot({ path: join(shots, `${name}-${lang}.png`), fullPage: true });
    await checkAccessibility(context, page, `${name} (${lang})`);
  }
  url.searchParams.set('lang', 'de');
  await page.goto(url.toString());
}

/// Stripe's signed events for `platform()` (a function: the platform starts in `before`),
/// signed with the webhook secret it was started with.
export function stripeFor(platform, secret) {
  const stripeObjects = JSON.parse(readFileSync(join(root, 'tests/fixtures/stripe/objects.json'), 'utf8')).resources;
  const serverNow = () => platform().now();
  /// A Stripe event of Stripe's own shape (tests/fixtures/stripe), signed and delivered to the
  /// webhook as Stripe does (`Stripe-Signature: t=…,v1=HMAC-SHA256(secret, "t.payload")`).
  async function deliverStripe(id, type, object) {
    const event = { ...structuredClone(stripeObjects.event), id, type, livemode: false, data: { object } };
    event.created = Math.floor(Date.parse(await serverNow()) / 1000);
    const payload = JSON.stringify(event);
    const signature = createHmac('sha256', secret).update(`${event.created}.${payload}`).digest('hex');
    const r = await fetch(`${platform().base}/stripe/webhook`, {
      method: 'POST', body: payload,
      headers: { 'content-type': 'application/json', 'stripe-signature': `t=${event.created},v1=${signature}` },
    });
    assert.ok(r.ok, `${type}: ${r.status} ${await r.text()}`);
  }

  /// acme's Stripe customer and subscription, and November's paid invoice (net 49.90 €).
  async function invoicedNovember() {
    await deliverStripe('evt_customer', 'customer.created', { ...structuredClone(stripeObjects.customer), id: 'cus_acme', metadata: { tenant_id: 'acme' } });
    await deliverStripe('evt_subscription', 'customer.subscription.created', {
      ...structuredClone(stripeObjects.subscription), id: 'sub_acme1', customer: 'cus_acme', status: 'active', ended_at: null, canceled_at: null,
    });
    const invoice = structuredClone(stripeObjects.invoice);
    const start = Date.parse('2026-11-01T00:00:00Z') / 1000;
    const end = Date.parse('2026-12-01T00:00:00Z') / 1000;
    Object.assign(invoice, {
      id: 'in_november', customer: 'cus_acme', status: 'paid', currency: 'eur', subtotal: 4990,
      total_excluding_tax: 4990, total: 5938, billing_reason: 'subscription_cycle',
      parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata: null, subscription: 'sub_acme1' } },
    });
    invoice.lines.data[0].period = { start, end };
    invoice.lines.data[0].parent = {
      type: 'subscription_item_details', invoice_item_details: null,
      subscription_item_details: { subscription: 'sub_acme1', subscription_item: 'si_1', invoice_item: null, proration: false, proration_details: null },
    };
    await deliverStripe('evt_invoice', 'invoice.paid', invoice);
  }

  return { deliverStripe, invoicedNovember };
}

/// The mail the outbox drain wrote for `to` whose file name starts with `prefix`.
export async function mailTo(platform, prefix, to) {
  await platform.advance('PT1M'); // the outbox drain hands it over
  const outbox = join(platform.data, 'outbox');
  for (let i = 0; i < 50; i++) {
    const files = existsSync(outbox) ? readdirSync(outbox).filter((f) => f.startsWith(prefix)) : [];
    const mail = files.map((f) => readFileSync(join(outbox, f), 'utf8')).find((m) => m.split(/\r?\n/).includes(`To: ${to}`));
    if (mail) return mail;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`no mail to ${to}: ${existsSync(outbox) ? readdirSync(outbox) : 'no outbox'}`);
}

/// Screenshot of the page as it is (a form's answer, which a reload would not show again) in
/// its current language, axe on it.
export async function shoot(context, page, name) {
  const lang = await page.getAttribute('html', 'lang');
  await page.screenshot({ path: join(shots, `${name}-${lang}.png`), fullPage: true });
  await checkAccessibility(context, page, name);
}

export function watchCsp(page, violations) {
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
}



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

/// The authenticator app of each address in this run: the key its first sign-in enrolled and
/// the last code it sent (the platform takes each code once).
const apps = new Map();

/// A whole sign-in as a person does it: address and password, then the second factor — on the
/// first sign-in the app is enrolled from the key shown and the recovery codes are passed, later
/// the app's code is typed. Where the page offers a passkey, or refused the password, it stops
/// there for the test to go on. Ends on the page the sign-in leads to; an enrolment returns
/// the app's key and the recovery codes shown.
export async function signIn(platform, page, email, password) {
  await page.goto(`${platform.base}/portal/session/sign-in`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await follow(page, 'button[type=submit]');
  return secondFactor(platform, page, email);
}

/// The second-factor page of `email`'s sign-in, answered with the app (see `signIn`).
export async function secondFactor(platform, page, email) {
  const key = await page.$('#otp-secret');
  if (key) apps.set(email, { secret: (await key.textContent()).trim(), last: null });
  if (!(key || await page.$('#code')) || await page.$('form[data-passkey]')) return;
  const app = apps.get(email);
  assert.ok(app, `${email} has no app enrolled in this run`);
  let code = totp(app.secret, await platform.now());
  if (code === app.last) {
    // The code was sent already: wait for the next one, as a person would.
    await platform.advance('PT30S');
    code = totp(app.secret, await platform.now());
  }
  await page.fill('#code', code);
  await follow(page, 'form[action="/portal/session/second-factor"] button[type=submit]');
  app.last = code;
  if (!key) return undefined;
  const recoveryCodes = await page.$$eval('#recovery-codes li', (items) => items.map((li) => li.textContent.trim()));
  assert.ok(recoveryCodes.length > 0, 'recovery codes shown once');
  await follow(page, 'main a.button');
  return { secret: app.secret, recoveryCodes };
}

/// Chromium's virtual authenticator (DevTools protocol `WebAuthn` domain) for this page: a
/// platform authenticator with user verification that answers without a touch.
export async function virtualAuthenticator(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
      hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}
