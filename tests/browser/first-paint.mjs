// First contentful paint of the portal's pages in headless Chromium, against `regrooter serve`
// (the release build unless REGROOTER_BIN says otherwise): an admin of a company with an
// outage, a claim and an incident signs in, then each page is opened 15 times; the median and
// the worst paint are printed. Target (issue 20): < 300 ms locally. Exits 1 when a page misses
// it. Run by `scripts/page-bench` (not part of the test suite: a benchmark).
import { startPlatform, follow, secondFactor } from './platform.mjs';

const RUNS = 15;
const TARGET_MS = 300;
const password = 'first paint comes first';

const platform = await startPlatform({ start: '2026-11-20T09:00:00Z' });
const { base, browser } = platform;
let missed = [];
try {
  const now = await platform.now();
  const operator = platform.token(['--role', 'operator', '--now', now]);
  const admin = platform.token(['--role', 'customer_admin', '--tenant', 'acme', '--now', now]);
  const security = platform.token(['--role', 'security_officer', '--now', now]);
  await platform.api('PUT', '/api/tenants/acme', operator, { name: 'ACME GmbH' });
  await platform.api('POST', '/api/sla/outages', operator, {
    start: '2026-11-03T08:00:00Z', end: '2026-11-05T00:00:00Z', tenant: 'acme',
    description: 'Storage failure', evidence: 'status page',
  });
  const incident = await platform.api('POST', '/api/incidents', security, {
    title: 'Export files', customer_title: 'Exposed export files', discovered_at: now, aware_at: now,
    breach_types: ['confidentiality'], nature_and_scope: 'Export files were readable.',
    data_categories: ['contact'], approx_data_subjects: { min: 10, max: 20 }, approx_records: { min: 50, max: 50 },
    likely_consequences: 'Phishing.', data_sets: [{ tenant: 'acme', name: 'exports', role: 'processor' }],
  });
  const invited = await platform.api('POST', '/api/tenants/acme/users', admin, { email: 'ada@acme.example', name: 'Ada', roles: ['customer_admin'] });
  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  await page.goto(`${base}/portal/session/activate?token=${invited.activation_token}`);
  await page.fill('#password', password);
  await page.fill('#password_again', password);
  await follow(page, 'button[type=submit]');
  await page.fill('#email', 'ada@acme.example');
  await page.fill('#password', password);
  await follow(page, 'button[type=submit]');
  await secondFactor(platform, page, 'ada@acme.example');
  await platform.advance('264h');
  const pages = ['/portal/', '/portal/sla/2026-11', '/portal/incidents', `/portal/incidents/${incident.id}`,
    '/portal/billing', '/portal/retention', '/portal/team', '/portal/team/roles', '/portal/account',
    '/portal/account/passkeys/new', '/portal/session/sign-in', '/deletion-certificates/verify'];
  console.log(`${'page'.padEnd(48)} ${'median'.padStart(8)} ${'worst'.padStart(8)}`);
  for (const path of pages) {
    const paints = [];
    for (let i = 0; i < RUNS; i++) {
      // A minute per round keeps this browser inside the edge's rate limits.
      if (i % 5 === 0) await platform.advance('PT1M');
      await page.goto(`${base}${path}`);
      // The paint entry may come after `load`: wait for it (buffered), at most 5 s.
      const fcp = await page.evaluate(() => new Promise((ok) => {
        new PerformanceObserver((list) => {
          const entry = list.getEntriesByName('first-contentful-paint')[0];
          if (entry) ok(entry.startTime);
        }).observe({ type: 'paint', buffered: true });
        setTimeout(() => ok(undefined), 5000);
      }));
      if (fcp === undefined) throw new Error(`${path}: no contentful paint`);
      paints.push(fcp);
    }
    paints.sort((a, b) => a - b);
    const median = paints[Math.floor(paints.length / 2)];
    const worst = paints[paints.length - 1];
    console.log(`${path.padEnd(48)} ${median.toFixed(0).padStart(6)} ms ${worst.toFixed(0).padStart(6)} ms`);
    if (worst > TARGET_MS) missed.push(`${path}: ${worst.toFixed(0)} ms`);
  }
} finally {
  await platform.stop();
}
if (missed.length) {
  console.error(`first contentful paint over ${TARGET_MS} ms:\n  ${missed.join('\n  ')}`);
  process.exit(1);
}
console.log(`every page painted within ${TARGET_MS} ms`);
