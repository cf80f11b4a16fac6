// The customer portal in real Chromium (Debian's, driven by playwright-core), against the real
// `regrooter serve` on the manual clock (tests/browser/platform.mjs): invitation and activation,
// sign-in, TOTP enrolment (codes computed here, RFC 6238) and sign-in with it, Stripe's signed
// events, a claim for a month that fell short verified eligible and approved, the credit on the
// billing page, custom roles, role changes, disabling and re-enabling, final deletion and the
// public certificate check, an incident with its notice, passkeys through Chromium's virtual
// authenticator and a tenant that requires them, password change and signing out everywhere,
// a member without permissions, and cross-site form posts. axe-core checks every page (no
// serious or critical violation) and every page is screenshot in German and English into
// target/browser/. Run by scripts/test (`node --test tests/browser/`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, verify } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startPlatform, follow, root, shots, totp, checkAccessibility, record, watchCsp, stripeFor, mailTo, virtualAuthenticator, signIn, secondFactor } from './platform.mjs';

// The platform's clock starts on 20 November; the November outage makes the month fall short.
const START = '2026-11-20T09:00:00Z';
// Stripe's webhook secret for this run: the test signs Stripe's events as Stripe would.
const STRIPE_SECRET = 'whsec_browser_test_0123456789';

let platform, browser, base;
const serverNow = () => platform.now();
const token = (args) => platform.token(args);
const api = (...args) => platform.api(...args);
const advance = (duration) => platform.advance(duration);

const { deliverStripe, invoicedNovember } = stripeFor(() => platform, STRIPE_SECRET);

before(async () => {
  platform = await startPlatform({ start: START, env: { STRIPE_WEBHOOK_SECRET: STRIPE_SECRET } });
  ({ browser, base } = platform);
});

after(async () => {
  await platform?.stop();
});

test('an invited admin activates, signs in, enrols TOTP and claims a credit for a month that fell short', async () => {
  const now = await serverNow();
  const operator = token(['--role', 'operator', '--now', now]);
  const admin = token(['--role', 'customer_admin', '--tenant', 'acme', '--now', now]);
  await api('PUT', '/api/tenants/acme', operator, { name: 'ACME GmbH', contact_email: 'privacy@acme.example' });
  await api('PUT', '/api/tenants/globex', operator, { name: 'Globex AG' });
  // Two hours down on 3 November: below 95.0 % needs more than 36 h in a 30-day month, so a
  // 40-hour outage makes November fall short.
  await api('POST', '/api/sla/outages', operator, {
    start: '2026-11-03T08:00:00Z', end: '2026-11-05T00:00:00Z', tenant: 'acme',
    description: 'Storage failure in the primary region', evidence: 'status page entry',
  });
  const invited = await api('POST', '/api/tenants/acme/users', admin, { email: 'ada@acme.example', name: 'Ada Admin', roles: ['customer_admin'] });

  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  const csp = [];
  watchCsp(page, csp);

  // A portal page without a session leads to the sign-in, and back afterwards.
  await page.goto(`${base}/`);
  assert.match(new URL(page.url()).pathname, /\/portal\/session\/sign-in$/);
  await record(context, page, 'sign-in');

  // Activation from the invitation link.
  await page.goto(`${base}/portal/session/activate?token=${invited.activation_token}`);
  await record(context, page, 'activate');
  await page.fill('#password', 'short');
  await page.fill('#password_again', 'different');
  await follow(page, 'button[type=submit]');
  assert.match(await page.textContent('#errors'), /nicht gleich/);
  await page.fill('#password', 'correct horse battery staple');
  await page.fill('#password_again', 'correct horse battery staple');
  await follow(page, 'button[type=submit]');
  assert.match(await page.textContent('main'), /Konto ist aktiviert/);

  // A wrong password: the same words whatever was wrong, next to the field.
  await page.fill('#email', 'ada@acme.example');
  await page.fill('#password', 'wrong password entirely');
  await follow(page, 'button[type=submit]');
  assert.match(await page.textContent('#password-error'), /stimmen nicht/);
  await page.fill('#password', 'correct horse battery staple');
  await follow(page, 'button[type=submit]');

  // The first sign-in enrols the second factor: no portal page before it is confirmed. The
  // code is computed from the key shown.
  const gate = await context.newPage();
  await gate.goto(`${base}/portal/`);
  assert.match(new URL(gate.url()).pathname, /\/portal\/session\/sign-in$/, 'no portal page without a second factor');
  await gate.close();
  await advance('PT1M'); // the edge allows five sign-in steps a minute from one client
  const secret = (await page.textContent('#otp-secret')).trim();
  assert.ok(await page.$('.qr svg'), 'the QR code is drawn');
  await page.screenshot({ path: join(shots, 'totp-enrolment-de.png'), fullPage: true });
  await checkAccessibility(context, page, 'totp-enrolment');
  await page.fill('#code', '000000');
  await follow(page, 'button[type=submit]');
  assert.match(await page.textContent('#code-error'), /Code stimmt nicht/);
  assert.equal(await page.textContent('#otp-secret'), secret, 'the same key, to try again');
  assert.ok(await page.$('.qr svg'), 'and its QR code');
  await page.screenshot({ path: join(shots, 'totp-enrolment-mistake-de.png'), fullPage: true });
  await checkAccessibility(context, page, 'totp-enrolment-mistake');
  await page.fill('#code', totp(secret, await serverNow()));
  await follow(page, 'button[type=submit]');
  assert.equal((await page.$$('#recovery-codes li')).length > 0, true, 'recovery codes shown once');
  await page.screenshot({ path: join(shots, 'recovery-codes-de.png'), fullPage: true });
  await follow(page, 'main a.button');
  assert.equal(new URL(page.url()).pathname, '/portal/');
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === '__Host-regrooter-session');
  assert.ok(session && session.httpOnly && session.secure && session.sameSite === 'Strict' && session.path === '/', JSON.stringify(session));
  const refresh = cookies.find((c) => c.name === '__Secure-regrooter-refresh');
  assert.ok(refresh && refresh.httpOnly && refresh.path === '/portal/session', JSON.stringify(refresh));
  await record(context, page, 'overview');
  await follow(page, 'nav.main a[href="/portal/account"]');
  await record(context, page, 'account');

  // Sign out, then in again: now the second factor is asked for.
  await follow(page, 'header form button[type=submit]');
  assert.match(await page.textContent('main'), /abgemeldet/);
  await advance('PT1M');
  await page.fill('#email', 'ada@acme.example');
  await page.fill('#password', 'correct horse battery staple');
  await follow(page, 'button[type=submit]');
  assert.ok(await page.$('#code'), 'the second-factor step');
  await page.screenshot({ path: join(shots, 'second-factor-de.png'), fullPage: true });
  await checkAccessibility(context, page, 'second-factor');
  await page.fill('#code', '000000');
  await follow(page, 'button[type=submit]');
  assert.match(await page.textContent('#code-error'), /Code stimmt nicht/);
  await page.fill('#code', totp(secret, await serverNow()));
  await follow(page, 'button[type=submit]');
  assert.equal(new URL(page.url()).pathname, '/portal/');

  // November is over and invoiced; its report shows the outage, the chart and the claim form
  // pre-filled.
  await advance('264h');
  await invoicedNovember();
  await page.goto(`${base}/portal/sla/2026-11`);
  assert.ok(await page.$('figure.chart svg rect.bar.down'), 'the outage days are red');
  assert.equal(await page.inputValue('#start_0'), '2026-11-03T09:00');
  assert.equal(await page.inputValue('#end_0'), '2026-11-05T01:00');
  await record(context, page, 'sla-month');
  await follow(page, 'form[action$="/claims"] button[type=submit]');
  assert.match(new URL(page.url()).pathname, /\/portal\/sla\/2026-11$/);
  const state = await page.textContent('#claims ~ .card');
  assert.match(state, /Geprüft: berechtigt/);
  await record(context, page, 'sla-claimed');

  // Billing approves the claim: 5 % of November's fee, on the way to the next invoice.
  const billingStaff = token(['--role', 'billing_admin', '--now', await serverNow()]);
  const claims = await api('GET', '/api/sla/tenants/acme/claims', billingStaff);
  const claimId = claims[0].id;
  await api('POST', `/api/sla/tenants/acme/claims/${claimId}/decision`, billingStaff, { approve: true, reason: 'Outage of 3–5 November confirmed.' });
  await page.goto(`${base}/portal/billing`);
  assert.match(await page.textContent('main table'), /SLA-Gutschrift für November 2026/);
  assert.match(await page.textContent('main table'), /2,50\s€/);
  await record(context, page, 'billing');

  // A form posted from another site is refused, with or without the form token.
  const jar = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
  const formToken = (await context.cookies()).find((c) => c.name === '__Host-regrooter-form').value;
  for (const headers of [
    { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    { origin: 'https://evil.example' },
    {},
  ]) {
    const r = await fetch(`${base}/portal/sla/2026-10/claims`, {
      method: 'POST', redirect: 'manual',
      headers: { ...headers, cookie: jar, 'content-type': 'application/x-www-form-urlencoded' },
      body: `form_token=${formToken}&start_0=2026-10-01T10:00&end_0=2026-10-01T11:00`,
    });
    assert.equal(r.status, 403, JSON.stringify(headers));
  }
  const noToken = await fetch(`${base}/portal/sla/2026-10/claims`, {
    method: 'POST', redirect: 'manual',
    headers: { origin: base, cookie: jar, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'start_0=2026-10-01T10:00&end_0=2026-10-01T11:00',
  });
  assert.equal(noToken.status, 403);

  // The session of an acme user shows acme's data only; the portal takes the tenant from the
  // token, never from the address.
  assert.doesNotMatch(await page.textContent('body'), /globex/i);

  // The admin invites a member on the team page; the activation link goes to the member by mail.
  await page.goto(`${base}/portal/team`);
  await follow(page, 'form[action="/portal/team/invite"] button[type=submit]');
  assert.match(await page.textContent('#errors'), /E-Mail-Adresse/);
  assert.equal(await page.getAttribute('#email', 'aria-invalid'), 'true');
  await page.fill('#name', 'Max Member');
  await page.fill('#email', 'max@acme.example');
  await page.check('#role-customer_member');
  await follow(page, 'form[action="/portal/team/invite"] button[type=submit]');
  assert.match(await page.textContent('main [role=status]'), /max@acme\.example/);
  assert.doesNotMatch(await page.content(), /activate\?token=/, 'the admin never holds the link');
  const invitation = await mailTo(platform, 'invitation-', 'max@acme.example');
  assert.match(invitation, /für ACME GmbH/);
  const link = invitation.match(/https?:\/\/\S+\/portal\/session\/activate\?token=\S+/)[0];
  assert.match(await page.textContent('table'), /max@acme\.example/);
  await page.screenshot({ path: join(shots, 'team-invited-de.png'), fullPage: true });
  await checkAccessibility(context, page, 'team-invited');
  await page.goto(`${base}/portal/team`);
  await record(context, page, 'team');

  // A custom role: every field's error at once, then the role with its permissions in words.
  await follow(page, 'a[href="/portal/team/roles"]');
  await follow(page, 'form[action="/portal/team/roles"] button[type=submit]');
  assert.match(await page.textContent('#name-error'), /Kleinbuchstaben/);
  assert.match(await page.textContent('#permissions-error'), /mindestens eine Berechtigung/);
  await page.fill('#name', 'sla-reader');
  await page.check('#permission-sla-report-read');
  await page.check('#permission-sla-claims-read');
  await follow(page, 'form[action="/portal/team/roles"] button[type=submit]');
  assert.match(await page.textContent('main .card'), /monatliche Verfügbarkeitsberichte sehen/);
  await record(context, page, 'team-roles');

  // An address that is no page is a page saying so.
  const missing = await fetch(`${base}/portal/no-such-page`, { headers: { cookie: (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ') } });
  assert.equal(missing.status, 404);
  assert.match(missing.headers.get('content-type'), /text\/html/);

  const memberContext = await browser.newContext({ locale: 'en-GB' });
  const memberPage = await memberContext.newPage();
  watchCsp(memberPage, csp);
  await memberPage.goto(link);
  await memberPage.fill('#password', 'a member chooses a long passphrase');
  await memberPage.fill('#password_again', 'a member chooses a long passphrase');
  await follow(memberPage, 'button[type=submit]');
  await memberPage.fill('#email', 'max@acme.example');
  await memberPage.fill('#password', 'a member chooses a long passphrase');
  await follow(memberPage, 'button[type=submit]');
  await secondFactor(platform, memberPage, 'max@acme.example');
  assert.equal(await memberPage.getAttribute('html', 'lang'), 'en', 'Accept-Language en-GB');
  await memberPage.goto(`${base}/portal/sla/2026-11`);
  assert.equal(await memberPage.$('form[action$="/claims"]'), null, 'a member files no claims');
  assert.equal(await memberPage.$('nav.main a[href="/portal/team"]'), null, 'a member manages no team');
  const forbidden = await memberPage.goto(`${base}/portal/team`);
  assert.equal(forbidden.status(), 403);
  assert.match(await memberPage.textContent('main'), /not allowed/);
  await memberPage.screenshot({ path: join(shots, 'forbidden-member-en.png'), fullPage: true });
  await memberPage.screenshot({ path: join(shots, 'sla-month-member-en.png'), fullPage: true });

  // The admin makes the member an admin too: the member's session ends at once, and the next
  // sign-in carries the new role.
  await page.goto(`${base}/portal/team`);
  const maxRow = page.locator('#users tr', { hasText: 'max@acme.example' });
  await maxRow.locator('details.roles summary').click();
  await maxRow.locator('input[name="role.customer_admin"]').check();
  await Promise.all([page.waitForNavigation(), maxRow.locator('details.roles button[type=submit]').click()]);
  assert.match(await maxRow.textContent(), /Administration/);
  await memberPage.goto(`${base}/portal/sla/2026-11`);
  assert.match(new URL(memberPage.url()).pathname, /\/portal\/session\/sign-in$/, 'the old session ended');
  await advance('PT1M');
  await memberPage.fill('#email', 'max@acme.example');
  await memberPage.fill('#password', 'a member chooses a long passphrase');
  await follow(memberPage, 'button[type=submit]');
  await secondFactor(platform, memberPage, 'max@acme.example');
  assert.equal((await memberPage.goto(`${base}/portal/team`)).status(), 200, 'now an admin');

  // Disabled, the member is out at once; re-enabled, they sign in again.
  await Promise.all([page.waitForNavigation(), maxRow.locator('form[action$="/disable"] button').click()]);
  assert.match(await maxRow.textContent(), /gesperrt/);
  await memberPage.goto(`${base}/portal/team`);
  assert.match(new URL(memberPage.url()).pathname, /\/portal\/session\/sign-in$/);
  await Promise.all([page.waitForNavigation(), maxRow.locator('form[action$="/enable"] button').click()]);
  assert.match(await maxRow.textContent(), /aktiv/);
  await advance('PT1M');
  await memberPage.fill('#email', 'max@acme.example');
  await memberPage.fill('#password', 'a member chooses a long passphrase');
  await follow(memberPage, 'button[type=submit]');
  await secondFactor(platform, memberPage, 'max@acme.example');
  assert.equal(new URL(memberPage.url()).pathname, '/portal/team', 'back where the sign-in began');
  await memberContext.close();

  // Retention: while the service runs, nothing is scheduled; once it ended, the stages' dates
  // and the final-deletion request, which needs the typed phrase.
  await page.goto(`${base}/portal/retention`);
  assert.match(await page.textContent('main'), /Dienst aktiv/);
  await record(context, page, 'retention-active');
  const operatorNow = token(['--role', 'operator', '--now', await serverNow()]);
  await api('POST', '/api/tenants/acme/service-end', operatorNow, {});
  await page.goto(`${base}/portal/retention`);
  assert.match(await page.textContent('main table'), /geplant für/);
  await page.fill('#confirmation', 'delete acme');
  await follow(page, 'form[action="/portal/retention/final-deletion"] button[type=submit]');
  assert.match(await page.textContent('#confirmation-error'), /DELETE acme/);
  await page.fill('#confirmation', 'DELETE acme');
  await follow(page, 'form[action="/portal/retention/final-deletion"] button[type=submit]');
  assert.match(await page.textContent('main'), /endgültige Löschung verlangt/);
  await record(context, page, 'retention-ended');

  // The next retention run deletes and certifies. Stage 1 removes the company's accounts too
  // (the session ends), so the certificate reaches the customer as its signed form, and the
  // public check page reads it in words after verifying it against the published keys.
  await advance('25h');
  await page.goto(`${base}/portal/`);
  assert.match(new URL(page.url()).pathname, /\/portal\/session\/sign-in$/, 'the accounts are gone');
  const certificates = await api('GET', '/api/tenants/acme/retention/certificates', token(['--role', 'operator', '--now', await serverNow()]));
  // Final deletion was asked for: both stages ran, one certificate each.
  assert.deepEqual(certificates.map((c) => c.certificate.stage).sort(), ['stage1', 'stage2']);
  const stage1 = certificates.find((c) => c.certificate.stage === 'stage1');
  // Each certificate also went by mail to the breach contact (read before stage 1 destroyed
  // the keys that open it): the signed form, the stage in words, where to check it.
  const mailed = await mailTo(platform, `certificate-${stage1.certificate.id}`, 'privacy@acme.example');
  assert.match(mailed, /Subject: L=C3=B6schbescheinigung|Löschbescheinigung/);
  assert.ok(mailed.replace(/=\r?\n/g, '').includes(stage1.jws), 'the signed certificate is in the mail');
  assert.match(mailed, /deletion-certificates\/verify/);
  await mailTo(platform, `certificate-${certificates.find((c) => c.certificate.stage === 'stage2').certificate.id}`, 'privacy@acme.example');
  await page.goto(`${base}/deletion-certificates/verify`);
  await record(context, page, 'certificate-check');
  await page.fill('#jws', stage1.jws.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')));
  await follow(page, 'main button[type=submit]');
  assert.match(await page.textContent('#jws-error'), /nicht bestätigen/);
  await page.fill('#jws', stage1.jws);
  await follow(page, 'main button[type=submit]');
  assert.match(await page.textContent('main .notice'), /Signatur gültig/);
  assert.match(await page.textContent('main table'), /Benutzerkonten/);
  // The signed scope is English; a German page says it in German.
  assert.match(await page.textContent('main'), /Stufe 1 \(Leistungsende \+ 30 Tage\)/);
  assert.doesNotMatch(await page.textContent('main'), /primary stores of the data inventory/);
  await page.screenshot({ path: join(shots, 'certificate-de.png'), fullPage: true });
  await checkAccessibility(context, page, 'certificate');

  assert.deepEqual(csp, [], 'no page broke its own Content-Security-Policy');
  await context.close();
});

test('a passkey: registered on the account page, then the second factor; a tenant that requires passkeys', async () => {
  const now = await serverNow();
  const operator = token(['--role', 'operator', '--now', now]);
  const admin = token(['--role', 'customer_admin', '--tenant', 'initech', '--now', now]);
  await api('PUT', '/api/tenants/initech', operator, { name: 'Initech GmbH', contact_email: 'privacy@initech.example' });
  const invited = await api('POST', '/api/tenants/initech/users', admin, { email: 'pia@initech.example', name: 'Pia Passkey', roles: ['customer_admin'] });
  const password = 'passkeys beat passwords any day';

  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  const csp = [];
  watchCsp(page, csp);
  const { cdp, authenticatorId } = await virtualAuthenticator(context, page);

  await page.goto(`${base}/portal/session/activate?token=${invited.activation_token}`);
  await page.fill('#password', password);
  await page.fill('#password_again', password);
  await follow(page, 'button[type=submit]');
  // The first sign-in enrols the app (the key and recovery codes kept for later).
  const { secret, recoveryCodes } = await signIn(platform, page, 'pia@initech.example', password);
  assert.equal(new URL(page.url()).pathname, '/portal/');

  // The account page offers a passkey; the browser creates it, the server verifies it.
  await page.goto(`${base}/portal/account`);
  await follow(page, 'a[href="/portal/account/passkeys/new"]');
  await record(context, page, 'passkey-new');
  assert.equal(await page.isVisible('form[data-passkey="create"]'), true, 'the script shows the form');
  await page.fill('#name', 'Laptop');
  await follow(page, 'form[data-passkey="create"] button[type=submit]');
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1, 'the authenticator holds the new passkey');
  assert.match(new URL(page.url()).search, /passkey=added/, 'the account page says so');
  assert.match(await page.textContent('main table'), /Laptop/);
  assert.match(await page.textContent('main table'), /noch nie/);
  await record(context, page, 'account-passkey');

  // Signing in again: the second factor with the passkey, one click.
  await follow(page, 'header form button[type=submit]');
  await advance('PT1M');
  await signIn(platform, page, 'pia@initech.example', password);
  assert.equal(await page.isVisible('form[data-passkey="get"]'), true, 'the passkey step');
  await page.screenshot({ path: join(shots, 'second-factor-passkey-de.png'), fullPage: true });
  await checkAccessibility(context, page, 'second-factor-passkey');
  await follow(page, 'form[data-passkey="get"] button[type=submit]');
  assert.equal(new URL(page.url()).pathname, '/portal/');
  await page.goto(`${base}/portal/account`);
  assert.doesNotMatch(await page.textContent('main table'), /noch nie/, 'the passkey was used');

  // An incident that affects the company: staff document it, with a title for customers, and
  // tell the company; the admin reads it, and the notice as sent, in the portal.
  const security = token(['--role', 'security_officer', '--now', await serverNow()]);
  const aware = await serverNow();
  const incident = await api('POST', '/api/incidents', security, {
    title: 'Internal: bucket ACL regression in eu-central-1',
    customer_title: 'Offene Exportdateien',
    discovered_at: aware, aware_at: aware, breach_types: ['confidentiality'],
    nature_and_scope: 'Exportdateien von Initech waren zwei Stunden ohne Anmeldung lesbar.',
    data_categories: ['contact', 'employment'],
    approx_data_subjects: { min: 40, max: 60 }, approx_records: { min: 200, max: 200 },
    likely_consequences: 'Phishing-Versuche gegen die betroffenen Beschäftigten.',
    data_sets: [{ tenant: 'initech', name: 'Initech exports', role: 'processor' }],
    // What customers read, in English too (the consequences left German on purpose).
    english: { customer_title: 'Exposed export files', nature_and_scope: 'Export files of Initech were readable without sign-in for two hours.' },
  });
  await api('POST', `/api/incidents/${incident.id}/measures`, security, { kind: 'containment', what: 'Öffentlicher Zugriff auf den Speicher entfernt', what_en: 'Public access to the bucket removed', owner: 'Plattformteam', status: 'done' });
  await advance('PT2H');
  const securityLater = token(['--role', 'security_officer', '--now', await serverNow()]);
  await api('POST', `/api/incidents/${incident.id}/notifications/customers`, securityLater, {});
  await page.goto(`${base}/portal/`);
  assert.match(await page.textContent('#incidents-heading + p + p'), /Offene Exportdateien/);
  assert.match(await page.textContent('main'), /innerhalb von 48 Stunden informiert/);
  await record(context, page, 'overview-incident');
  await follow(page, 'main a[href^="/portal/incidents/"]');
  assert.equal(await page.textContent('h1'), 'Offene Exportdateien');
  assert.doesNotMatch(await page.textContent('main'), /bucket ACL|Internal:/, 'never the internal title');
  assert.match(await page.textContent('main'), /Öffentlicher Zugriff auf den Speicher entfernt/);
  await page.click('details.notice-message summary');
  assert.match(await page.textContent('details.notice-message pre'), /Öffentlicher Zugriff auf den Speicher entfernt/);
  assert.match(await page.textContent('details.notice-message pre'), /- Public access to the bucket removed \(done\)/, 'the English part in English');
  // In English, the page reads the English wording, and says which text is German.
  const incidentPath = new URL(page.url()).pathname;
  await page.goto(`${base}${incidentPath}?lang=en`);
  assert.equal(await page.textContent('h1'), 'Exposed export files');
  assert.match(await page.textContent('main'), /Export files of Initech were readable without sign-in/);
  assert.match(await page.textContent('main'), /\[in German\] Phishing-Versuche gegen die betroffenen Beschäftigten\./);
  await page.goto(`${base}${incidentPath}?lang=de`);
  await record(context, page, 'incident');
  await page.goto(`${base}/portal/incidents`);
  await record(context, page, 'incidents');

  // The admin requires passkeys for the company.
  await page.goto(`${base}/portal/team`);
  await follow(page, 'form[action="/portal/team/passkeys"] button[type=submit]');
  assert.match(await page.textContent('main'), /Passkeys sind verlangt/);
  await record(context, page, 'team-passkeys-required');

  // With a passkey at hand, the app's code is no longer taken; a recovery code still is.
  await follow(page, 'header form button[type=submit]');
  await advance('PT1M');
  await signIn(platform, page, 'pia@initech.example', password);
  assert.match(await page.textContent('label[for="code"]'), /Wiederherstellungscode/);
  await page.fill('#code', totp(secret, await serverNow()));
  await follow(page, 'form[action="/portal/session/second-factor"] button[type=submit]');
  assert.match(await page.textContent('#code-error'), /stimmt nicht/);
  await page.fill('#code', recoveryCodes[0]);
  await follow(page, 'form[action="/portal/session/second-factor"] button[type=submit]');
  assert.equal(new URL(page.url()).pathname, '/portal/');
  // Signed in without the passkey: only the account is open until one is used.
  assert.match(await page.textContent('main'), /verlangt Passkeys/);
  const closed = await page.goto(`${base}/portal/team`);
  assert.equal(closed.status(), 403);

  // A member without a passkey: the same, until they add one and sign in with it.
  const adminLater = token(['--role', 'customer_admin', '--tenant', 'initech', '--now', await serverNow()]);
  const invitedMember = await api('POST', '/api/tenants/initech/users', adminLater, { email: 'mo@initech.example', name: 'Mo Member', roles: ['customer_member'] });
  const memberContext = await browser.newContext({ locale: 'en-GB' });
  const memberPage = await memberContext.newPage();
  watchCsp(memberPage, csp);
  const member = await virtualAuthenticator(memberContext, memberPage);
  await memberPage.goto(`${base}/portal/session/activate?token=${invitedMember.activation_token}`);
  await memberPage.fill('#password', password);
  await memberPage.fill('#password_again', password);
  await follow(memberPage, 'button[type=submit]');
  await advance('PT1M');
  await signIn(platform, memberPage, 'mo@initech.example', password);
  assert.match(await memberPage.textContent('main'), /requires passkeys/);
  await memberPage.screenshot({ path: join(shots, 'overview-passkey-required-en.png'), fullPage: true });
  await checkAccessibility(memberContext, memberPage, 'overview-passkey-required');
  assert.equal((await memberPage.goto(`${base}/portal/sla`)).status(), 403);
  await memberPage.goto(`${base}/portal/account/passkeys/new`);
  await memberPage.fill('#name', 'Phone');
  await follow(memberPage, 'form[data-passkey="create"] button[type=submit]');
  assert.equal((await member.cdp.send('WebAuthn.getCredentials', { authenticatorId: member.authenticatorId })).credentials.length, 1);
  await follow(memberPage, 'header form button[type=submit]');
  await advance('PT1M');
  await signIn(platform, memberPage, 'mo@initech.example', password);
  await follow(memberPage, 'form[data-passkey="get"] button[type=submit]');
  assert.equal(new URL(memberPage.url()).pathname, '/portal/');
  assert.doesNotMatch(await memberPage.textContent('main'), /requires passkeys/);
  assert.equal((await memberPage.goto(`${base}/portal/sla`)).status(), 200);
  // Signing out everywhere ends this session too (the sessions are listed first).
  await memberPage.goto(`${base}/portal/account`);
  assert.match(await memberPage.textContent('#sessions + table'), /password \+ passkey/);
  // This browser's session is marked, and only it: the newest.
  assert.equal(await memberPage.locator('#sessions + table .this-session').count(), 1);
  assert.match(await memberPage.locator('#sessions + table tbody tr').first().textContent(), /this browser/);
  await follow(memberPage, 'form[action="/portal/account/sign-out-everywhere"] button');
  assert.match(await memberPage.textContent('main'), /signed out/);
  await memberPage.goto(`${base}/portal/`);
  assert.match(new URL(memberPage.url()).pathname, /\/portal\/session\/sign-in$/);
  await memberContext.close();

  // Removing the passkey from the account page.
  await page.goto(`${base}/portal/account`);
  await follow(page, 'form[action$="/remove"] button[type=submit]');
  assert.match(await page.textContent('main'), /Passkey ist entfernt/);

  // A new password: every field's error at once, the current one checked, then all sessions end.
  await page.fill('#current', 'not the password');
  await page.fill('#new', 'short');
  await page.fill('#new_again', 'other');
  await follow(page, 'form[action="/portal/account/password"] button');
  assert.match(await page.textContent('#new_again-error'), /nicht gleich/);
  await page.fill('#current', 'not the password');
  await page.fill('#new', 'an entirely new passphrase');
  await page.fill('#new_again', 'an entirely new passphrase');
  await follow(page, 'form[action="/portal/account/password"] button');
  assert.match(await page.textContent('#current-error'), /stimmt nicht/);
  await page.screenshot({ path: join(shots, 'account-password-error-de.png'), fullPage: true });
  await checkAccessibility(context, page, 'account-password-error');
  await page.fill('#current', password);
  await page.fill('#new', 'an entirely new passphrase');
  await page.fill('#new_again', 'an entirely new passphrase');
  await follow(page, 'form[action="/portal/account/password"] button');
  assert.match(await page.textContent('main'), /Passwort ist geändert/);
  await advance('PT1M');
  await signIn(platform, page, 'pia@initech.example', password);
  assert.match(await page.textContent('#password-error'), /stimmen nicht/, 'the old password no longer works');
  await signIn(platform, page, 'pia@initech.example', 'an entirely new passphrase');
  // Without a passkey now, the app's code signs in (the session restricted: passkeys are required).
  assert.match(await page.textContent('main'), /verlangt Passkeys/, 'the new password and the app sign in');

  assert.deepEqual(csp, [], 'no page broke its own Content-Security-Policy');
  await context.close();
});

test('a reporter sends the form and reads the status page, in German and English', async () => {
  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  const csp = [];
  watchCsp(page, csp);
  await advance('PT5M');
  await page.goto(`${base}/security/report`);
  await record(context, page, 'report-form');
  await page.fill('#description', 'Die Exportfunktion liefert Datensätze anderer Kunden.');
  await page.fill('#affected_parties', 'ACME GmbH');
  await page.fill('#personal_data_kind', 'Namen, E-Mail-Adressen');
  await page.fill('#scope', 'etwa 140 Personen');
  await page.fill('#impact_assessment', 'Phishing-Risiko');
  // The optional vulnerability fields: a vector that is none is named by its label, the rest kept.
  await page.fill('#affected_product', 'https://app.regrooter.example/export');
  await page.fill('#cvss_vector', 'hoch');
  await follow(page, 'button[type=submit]');
  assert.match(await page.textContent('[role=alert]'), /CVSS-v4\.0-Vektor: hat nicht die erwartete Form/);
  assert.equal(await page.inputValue('#affected_product'), 'https://app.regrooter.example/export');
  await page.screenshot({ path: join(shots, 'report-form-mistake-de.png'), fullPage: true });
  await checkAccessibility(context, page, 'report form mistake (de)');
  await page.fill('#cvss_vector', 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N');
  await follow(page, 'button[type=submit]');
  await page.screenshot({ path: join(shots, 'report-confirmation-de.png'), fullPage: true });
  await checkAccessibility(context, page, 'report confirmation (de)');
  const [id, code] = await page.locator('code').allTextContents();
  assert.match(id, /^rep_/);

  // The confirmation links to the status page with the tracking id filled in.
  await follow(page, 'a[href^="/security/reports/status"]');
  assert.equal(await page.inputValue('#tracking_id'), id);
  await record(context, page, 'report-status-form');
  // A mistyped code (the browser itself insists on one): the mistake by its German label.
  await page.fill('#access_code', 'kein-code');
  await follow(page, 'button[type=submit]');
  assert.match(await page.textContent('[role=alert]'), /Zugangscode: hat nicht die erwartete Form/);
  await page.screenshot({ path: join(shots, 'report-status-mistake-de.png'), fullPage: true });
  await checkAccessibility(context, page, 'report status mistake (de)');
  await page.fill('#access_code', code);
  await follow(page, 'button[type=submit]');
  assert.match(await page.textContent('main'), new RegExp(`Ihre Sicherheitsmeldung ${id} ist eingegangen\\.`));
  await page.screenshot({ path: join(shots, 'report-status-answer-de.png'), fullPage: true });
  await checkAccessibility(context, page, 'report status answer (de)');

  // The security team asks a question; the reporter reads it on the status page and answers.
  const officer = token(['--role', 'security_officer', '--now', await serverNow()]);
  await api('POST', `/api/reports/${id}/messages`, officer, { text: 'Welche Export-URL haben Sie benutzt?\nUnd wann zuletzt?' });
  await advance('PT15M'); // the edge allows a handful of report posts per client and burst
  await page.goto(`${base}/security/reports/status?id=${id}&lang=de`);
  await page.fill('#access_code', code);
  await follow(page, 'button[type=submit]');
  assert.match(await page.textContent('ol.messages'), /Sicherheitsteam · .*Welche Export-URL haben Sie benutzt\?Und wann zuletzt\?/);
  // (An empty message the browser itself refuses: the field is required.)
  await page.fill('#text', 'https://app.example/export?tenant=* – zuletzt gestern um 14 Uhr.');
  await follow(page, 'form[action="/security/reports/status/messages"] button[type=submit]');
  assert.match(await page.textContent('[role=status]'), /Ihre Nachricht ist beim Sicherheitsteam eingegangen/);
  assert.match(await page.textContent('ol.messages li.from-you'), /Sie · .*zuletzt gestern um 14 Uhr/);
  assert.equal(await page.inputValue('#text'), '', 'the form is empty again');
  await page.screenshot({ path: join(shots, 'report-status-conversation-de.png'), fullPage: true });
  await checkAccessibility(context, page, 'report status conversation (de)');

  // In English.
  await page.goto(`${base}/security/reports/status?lang=en`);
  await page.fill('#tracking_id', id);
  await page.fill('#access_code', code);
  await follow(page, 'button[type=submit]');
  assert.match(await page.textContent('main'), new RegExp(`Your security report ${id} has been received\\.`));
  assert.match(await page.textContent('ol.messages'), /Security team · [\s\S]*You · /);
  await page.screenshot({ path: join(shots, 'report-status-answer-en.png'), fullPage: true });
  await checkAccessibility(context, page, 'report status answer (en)');
  assert.deepEqual(csp, [], 'no Content Security Policy violation');
  await context.close();
});

/// RFC 8037 / RFC 7515: checks a flattened JWS with one of the published Ed25519 keys, using
/// Node's own crypto (not the platform's code).
function verifiesWith(keys, jws) {
  const key = keys.find((k) => k.kid === JSON.parse(Buffer.from(jws.protected, 'base64url')).kid);
  if (!key) return false;
  const publicKey = createPublicKey({ key: { kty: key.kty, crv: key.crv, x: key.x }, format: 'jwk' });
  return verify(null, Buffer.from(`${jws.protected}.${jws.payload}`), publicKey, Buffer.from(jws.signature, 'base64url'));
}

test('the trust page: each promise beside its evidence, a month below 95.0 % shown as missed, the statement signed', async () => {
  const now = await serverNow();
  const operator = token(['--role', 'operator', '--now', now]);
  // A platform-wide outage of 42 hours in November: below 95.0 % for every customer.
  await api('POST', '/api/sla/outages', operator, {
    start: '2026-11-10T08:00:00Z', end: '2026-11-12T02:00:00Z',
    description: 'Storage failure in the primary region', evidence: 'status page entry',
  });
  // The trust-statement job runs every 15 minutes.
  await advance('PT15M');

  const context = await browser.newContext({ locale: 'en-GB' });
  const page = await context.newPage();
  const csp = [];
  watchCsp(page, csp);
  const response = await page.goto(`${base}/trust`);
  assert.equal(await page.getAttribute('html', 'lang'), 'en', 'the browser\'s language');
  assert.match(response.headers()['cache-control'], /^public, max-age=\d+$/);
  assert.equal(response.headers()['set-cookie'], undefined, 'a cacheable page sets no cookie');
  const november = page.locator('tr', { hasText: 'November 2026' });
  assert.match(await november.textContent(), /✗ missed/);
  assert.ok(await page.$('figure.chart svg rect.bar.down'), 'November\'s bar is red');
  const uptime = page.locator('#evidence-sla-uptime >> xpath=ancestor::article');
  assert.match(await uptime.textContent(), /not held/);
  assert.match(await uptime.textContent(), /2026-11/);
  // No staff account exists on this platform: that evidence is missing, not held.
  const staff = page.locator('#evidence-access-staff_second_factor >> xpath=ancestor::article');
  assert.match(await staff.textContent(), /evidence missing/);
  // The report form and security.txt are linked.
  assert.ok(await page.$('main a[href="/security/report"]'));
  await record(context, page, 'trust');

  // security.txt names the trust page and the disclosure policy; the policy and the report form
  // link each other and the trust page.
  const securityTxt = await (await fetch(`${base}/.well-known/security.txt`)).text();
  assert.match(securityTxt, new RegExp(`^# Trust page, every promise with its evidence: ${base}/trust$`, 'm'));
  assert.match(securityTxt, new RegExp(`^Policy: ${base}/security/policy$`, 'm'));
  await page.goto(`${base}/security/policy`);
  assert.ok(await page.$('a[href="/trust?lang=en"]') && await page.$('a[href="/security/report?lang=en"]'));
  await record(context, page, 'disclosure-policy');
  await page.goto(`${base}/security/report?lang=en`);
  assert.ok(await page.$('a[href="/trust?lang=en"]') && await page.$('a[href="/security/policy?lang=en"]'));

  // The statement verifies with the published keys; a tampered one does not.
  const statement = await (await fetch(`${base}/trust/statement.json`)).json();
  const { keys } = await (await fetch(`${base}/.well-known/deletion-certificate-keys.json`)).json();
  assert.ok(verifiesWith(keys, statement), 'the signed statement verifies');
  const payload = JSON.parse(Buffer.from(statement.payload, 'base64url'));
  const sla = payload.sections.find((s) => s.id === 'sla').evidence[0];
  assert.equal(sla.status, 'failing');
  assert.equal(sla.months.find((m) => m.month === '2026-11').met, false);
  sla.status = 'held';
  const tampered = { ...statement, payload: Buffer.from(JSON.stringify(payload)).toString('base64url') };
  assert.equal(verifiesWith(keys, tampered), false, 'a tampered statement does not verify');
  assert.deepEqual(csp, [], 'no Content Security Policy violation');
  await context.close();
});

test('sub-processors: a planned change mails every customer admin, an objection from the portal reaches the operators; documented instructions acknowledged by version; the record of processing', async () => {
  const now = await serverNow();
  const operator = token(['--role', 'operator', '--now', now]);
  const admin = token(['--role', 'customer_admin', '--tenant', 'umbrella', '--now', now]);
  await api('PUT', '/api/tenants/umbrella', operator, { name: 'Umbrella AG' });
  const invited = await api('POST', '/api/tenants/umbrella/users', admin, { email: 'uma@umbrella.example', name: 'Uma Admin', roles: ['customer_admin'] });
  const password = 'objections are a customer right';

  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  const csp = [];
  watchCsp(page, csp);
  await page.goto(`${base}/portal/session/activate?token=${invited.activation_token}`);
  await page.fill('#password', password);
  await page.fill('#password_again', password);
  await follow(page, 'button[type=submit]');
  await signIn(platform, page, 'uma@umbrella.example', password);
  assert.equal(new URL(page.url()).pathname, '/portal/');

  // A change must be announced at least 30 days ahead: every failing field at once.
  const day = 86_400_000;
  const processor = {
    id: 'postmark', name: 'Postmark (ActiveCampaign, LLC)',
    purpose: { de: 'Versand von Benachrichtigungen', en: 'Sending notifications' },
    data: { de: 'E-Mail-Adressen der Empfänger, Nachrichtentext', en: 'recipients\' e-mail addresses, message text' },
    location: { de: 'USA', en: 'USA' },
    transfer: { de: 'EU-Standardvertragsklauseln', en: 'EU standard contractual clauses' },
  };
  const early = await fetch(`${base}/api/subprocessors/changes`, {
    method: 'POST', headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
    body: JSON.stringify({ change: { kind: 'add', processor }, reason: { de: '', en: 'Deliverability' }, effective_at: new Date(Date.parse(now) + 10 * day).toISOString() }),
  });
  assert.equal(early.status, 400);
  const problem = await early.json();
  assert.deepEqual(problem.errors.map((e) => e.pointer).sort(), ['/effective_at', '/reason/de']);

  const effective = new Date(Date.parse(await serverNow()) + 31 * day).toISOString();
  const change = await api('POST', '/api/subprocessors/changes', operator, {
    change: { kind: 'add', processor },
    reason: { de: 'Bessere Zustellbarkeit unserer Benachrichtigungen', en: 'Better deliverability of our notifications' },
    effective_at: effective,
  });
  // Every customer admin of every active tenant on this platform: Pia (initech) and Uma — not
  // Ada, whose company's service ended in the first test (its data is deleted).
  assert.equal(change.notices_queued, 2, JSON.stringify(change));
  await advance('PT1M'); // the outbox drain hands the notices over
  const outbox = join(platform.data, 'outbox');
  const notices = readdirSync(outbox).filter((f) => f.startsWith(change.id)).map((f) => readFileSync(join(outbox, f), 'utf8'));
  assert.equal(notices.length, 2);
  assert.ok(notices.some((m) => /^To: pia@initech\.example$/m.test(m)));
  const uma = notices.find((m) => /^To: uma@umbrella\.example$/m.test(m));
  assert.ok(uma, notices.join('\n---\n'));
  assert.match(uma, /Subject: Geplante Änderung der Unterauftragsverarbeiter \/ Planned change of sub-processors/);
  assert.match(uma, /New sub-processor: Postmark/);
  assert.match(uma, new RegExp(`${base}/portal/subprocessors`));

  // The public list, the planned change and the feed.
  await page.goto(`${base}/trust/subprocessors`);
  assert.match(await page.textContent('main'), /Neuer Unterauftragsverarbeiter: Postmark/);
  await record(context, page, 'trust-subprocessors');
  const feed = await (await fetch(`${base}/trust/subprocessors.atom`)).text();
  assert.match(feed, new RegExp(`<id>urn:regrooter:subprocessor-change:${change.id}</id>`));
  const listing = await (await fetch(`${base}/trust/subprocessors.json`)).json();
  assert.deepEqual(listing.subprocessors.map((p) => p.id), ['aws', 'cloudflare', 'stripe'], 'not in effect yet');

  // The customer admin objects in the portal: an empty objection first, then with reasons.
  await page.goto(`${base}/portal/subprocessors`);
  await record(context, page, 'portal-subprocessors');
  await follow(page, `form[action="/portal/subprocessors/${change.id}/objection"] button[type=submit]`);
  assert.match(await page.textContent('.field-error'), /Gründe/);
  await page.screenshot({ path: join(shots, 'portal-subprocessors-mistake-de.png'), fullPage: true });
  await checkAccessibility(context, page, 'portal-subprocessors-mistake');
  await page.fill(`#reason-${change.id}`, 'Keine Übermittlung in die USA ohne vorherige Absprache.');
  await follow(page, `form[action="/portal/subprocessors/${change.id}/objection"] button[type=submit]`);
  assert.match(await page.textContent('main [role=status]'), /Ihr Widerspruch vom/);

  // Operators read it, with the company and the reasons.
  const objections = await api('GET', `/api/subprocessors/changes/${change.id}/objections`, operator);
  assert.equal(objections.length, 1);
  assert.equal(objections[0].tenant, 'umbrella');
  assert.equal(objections[0].reason, 'Keine Übermittlung in die USA ohne vorherige Absprache.');

  // The documented instructions: acknowledged as version 1; a contract change makes a new
  // version, which the page says until it is acknowledged too.
  await page.goto(`${base}/portal/instructions`);
  assert.match(await page.textContent('main'), /Noch keine Fassung bestätigt/);
  assert.match(await page.textContent('main'), /Information bei Datenschutzverletzungen48 Stunden/);
  await record(context, page, 'portal-instructions');
  await follow(page, 'form[action="/portal/instructions"] button[type=submit]');
  assert.match(await page.textContent('main [role=status]'), /Bestätigt als Fassung 1/);
  await api('PUT', '/api/tenants/umbrella', operator, { name: 'Umbrella AG', contract: { customer_notification: { hours: 24 } } });
  await page.goto(`${base}/portal/instructions`);
  assert.match(await page.textContent('main [role=status]'), /Geändert seit Fassung 1/);
  assert.match(await page.textContent('main'), /24 Stunden/);
  await page.screenshot({ path: join(shots, 'portal-instructions-changed-de.png'), fullPage: true });
  await follow(page, 'form[action="/portal/instructions"] button[type=submit]');
  assert.match(await page.textContent('main [role=status]'), /Bestätigt als Fassung 2/);
  assert.equal((await page.$$('main table tbody tr')).length, 2, 'both versions listed');

  // The record of processing (Art. 30(2)): to read and print, and as a JSON download.
  await follow(page, `a[href="/portal/instructions/record"]`);
  assert.match(await page.textContent('main'), /Umbrella AG/);
  assert.match(await page.textContent('main'), /Amazon Web Services EMEA SARL/);
  await record(context, page, 'portal-processing-record');
  const download = await context.request.get(`${base}/portal/instructions/record.json`);
  assert.equal(download.status(), 200);
  assert.match(download.headers()['content-disposition'], /attachment; filename="processing-record-umbrella\.json"/);
  const processing = await download.json();
  assert.equal(processing.controller_id, 'umbrella');
  assert.ok(processing.categories.length > 0 && processing.security_measures.length > 0);
  assert.deepEqual(csp, [], 'no Content Security Policy violation');
  await context.close();
});


test('an operator onboards a company and invites its first admin by mail, who then signs in to the portal', async () => {
  const operator = token(['--role', 'operator', '--now', await serverNow()]);
  await api('PUT', '/api/tenants/hooli', operator, { name: 'Hooli GmbH' });
  const invited = await api('POST', '/api/tenants/hooli/admins', operator, { email: 'hana@hooli.example', name: 'Hana Admin' });
  assert.equal(invited.invitation, 'mailed');
  assert.equal(invited.activation_token, undefined, 'the operator never holds the link');
  assert.deepEqual(invited.user.roles, ['customer_admin']);
  // One first admin: further users are the company's own to invite.
  const again = await fetch(`${base}/api/tenants/hooli/admins`, {
    method: 'POST', headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'other@hooli.example', name: 'Other' }),
  });
  assert.equal(again.status, 409);

  await advance('PT1M'); // the outbox drain hands the invitation over
  const mail = readFileSync(join(platform.data, 'outbox', `invitation-${invited.user.id}.eml`), 'utf8');
  assert.match(mail, /^To: hana@hooli\.example$/m);
  assert.match(mail, /Hooli GmbH/);
  const link = mail.match(/https?:\/\/\S+\/portal\/session\/activate\?token=\S+/)[0];

  const context = await browser.newContext({ locale: 'en-GB' });
  const page = await context.newPage();
  const csp = [];
  watchCsp(page, csp);
  const password = 'first admin of a new customer';
  await page.goto(link);
  await page.fill('#password', password);
  await page.fill('#password_again', password);
  await follow(page, 'button[type=submit]');
  await signIn(platform, page, 'hana@hooli.example', password);
  assert.equal(new URL(page.url()).pathname, '/portal/');
  assert.match(await page.textContent('header'), /hooli/);
  assert.deepEqual(csp, [], 'no Content Security Policy violation');
  await context.close();
});

test('a forgotten password: the link by mail works once, refuses a guessable password and ends every session', async () => {
  const operator = token(['--role', 'operator', '--now', await serverNow()]);
  await api('PUT', '/api/tenants/pied', operator, { name: 'Pied Piper GmbH' });
  const invited = await api('POST', '/api/tenants/pied/admins', operator, { email: 'rosa@pied.example', name: 'Rosa Reset' });
  await advance('PT1M');
  const invitation = readFileSync(join(platform.data, 'outbox', `invitation-${invited.user.id}.eml`), 'utf8');
  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  const csp = [];
  watchCsp(page, csp);
  const first = 'the first password of rosa';
  await page.goto(invitation.match(/https?:\/\/\S+\/portal\/session\/activate\?token=\S+/)[0]);
  await page.fill('#password', first);
  await page.fill('#password_again', first);
  await follow(page, 'button[type=submit]');
  await signIn(platform, page, 'rosa@pied.example', first);
  assert.equal(new URL(page.url()).pathname, '/portal/');

  // Forgotten: from the sign-in page (in another browser), the same answer for any address.
  const other = await browser.newContext({ locale: 'de-DE' });
  const forgot = await other.newPage();
  watchCsp(forgot, csp);
  await forgot.goto(`${base}/portal/session/sign-in`);
  await follow(forgot, 'a[href="/portal/session/forgot"]');
  await record(other, forgot, 'password-forgot');
  await forgot.fill('#email', 'nobody@pied.example');
  await follow(forgot, 'button[type=submit]');
  const answerForNobody = await forgot.textContent('main [role=status]');
  await forgot.fill('#email', 'rosa@pied.example');
  await follow(forgot, 'button[type=submit]');
  assert.equal(await forgot.textContent('main [role=status]'), answerForNobody, 'nothing tells whether the account exists');
  await advance('PT1M');
  const mails = readdirSync(join(platform.data, 'outbox')).filter((f) => f.startsWith(`reset-${invited.user.id}-`));
  assert.equal(mails.length, 1);
  const resetMail = readFileSync(join(platform.data, 'outbox', mails[0]), 'utf8');
  assert.match(resetMail, /^To: rosa@pied\.example$/m);
  const link = resetMail.match(/https?:\/\/\S+\/portal\/session\/reset\?token=\S+/)[0];

  // A guessable password is refused next to its field; a good one is set.
  await forgot.goto(link);
  await forgot.fill('#password', 'rosareset2026');
  await forgot.fill('#password_again', 'rosareset2026');
  await follow(forgot, 'button[type=submit]');
  assert.match(await forgot.textContent('#password-error'), /schwer zu erraten/);
  await forgot.screenshot({ path: join(shots, 'password-reset-mistake-de.png'), fullPage: true });
  await checkAccessibility(other, forgot, 'password-reset-mistake');
  const second = 'violet lanterns drift past quiet harbours';
  await forgot.fill('#password', second);
  await forgot.fill('#password_again', second);
  await follow(forgot, 'button[type=submit]');
  assert.match(await forgot.textContent('main [role=status]'), /alle Sitzungen sind beendet/);

  // The link works once; the first browser's session has ended; the new password signs in.
  await forgot.goto(link);
  await forgot.fill('#password', 'another good passphrase for nobody');
  await forgot.fill('#password_again', 'another good passphrase for nobody');
  await follow(forgot, 'button[type=submit]');
  assert.match(await forgot.textContent('#password-error'), /ungültig, schon benutzt oder abgelaufen/);
  await advance('PT11M'); // past the access token's ten minutes
  await page.goto(`${base}/portal/`);
  assert.match(new URL(page.url()).pathname, /\/portal\/session\/sign-in$/, 'the old session is over');
  await signIn(platform, page, 'rosa@pied.example', second);
  assert.equal(new URL(page.url()).pathname, '/portal/');
  assert.deepEqual(csp, [], 'no Content Security Policy violation');
  await other.close();
  await context.close();
});
