// The staff console in real Chromium against the real `regrooter serve` on the manual clock
// (tests/browser/platform.mjs): staff accounts activated from their links, the second factor
// enrolled at the first sign-in (no console page before it), an operator who onboards a
// customer and invites its first admin by mail (who then signs in to the portal), a security
// officer who triages a report into an incident through the incident file's form (a mistaken
// form first: every failing field named at once), previews and sends the customer notice and
// sees the 48-hour countdown turn met, the DPO setting a legal hold, billing deciding a claim from
// the queue across customers and a 250 € voluntary credit approved by a second billing user.
// axe-core on every page, screenshots in German and English into target/browser/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPlatform, follow, totp, record, shoot, watchCsp, stripeFor, mailTo, virtualAuthenticator, secondFactor } from './platform.mjs';

// 20 November; the November outage below lets a claim be verified once the month is over.
const START = '2026-11-20T09:00:00Z';
const STRIPE_SECRET = 'whsec_console_test_0123456789';

let platform, browser, base;
const serverNow = () => platform.now();
const api = (...args) => platform.api(...args);
const advance = (duration) => platform.advance(duration);
const { invoicedNovember } = stripeFor(() => platform, STRIPE_SECRET);

before(async () => {
  platform = await startPlatform({ start: START, env: { STRIPE_WEBHOOK_SECRET: STRIPE_SECRET } });
  ({ browser, base } = platform);
});

after(async () => {
  await platform?.stop();
});

/// A staff member the operators' API created: activated in the browser, signed in, the second
/// factor enrolled (mandatory for staff); returns the signed-in page, on the console.
async function staffMember(email, name, roles, locale = 'de-DE') {
  const operator = platform.token(['--role', 'operator', '--now', await serverNow()]);
  const created = await api('POST', '/api/staff', operator, { email, name, roles });
  return activateAndEnrol(`${base}/portal/session/activate?token=${created.activation_token}`, email, name, locale);
}

/// The new staff member's side: the activation link, the password, the first sign-in with the
/// second factor enrolled (no console page before it); returns the page, on the console.
async function activateAndEnrol(link, email, name, locale = 'de-DE') {
  const context = await browser.newContext({ locale });
  const page = await context.newPage();
  const csp = [];
  watchCsp(page, csp);
  await page.goto(link);
  const password = `${name} keeps the platform honest`;
  await page.fill('#password', password);
  await page.fill('#password_again', password);
  await follow(page, 'button[type=submit]');
  await page.fill('#email', email);
  await page.fill('#password', password);
  await follow(page, 'button[type=submit]');
  // Password accepted, second factor not yet enrolled: no console page opens.
  const gate = await context.newPage();
  await gate.goto(`${base}/console/`);
  assert.match(new URL(gate.url()).pathname, /\/portal\/session\/sign-in$/, 'no console page without a second factor');
  await gate.close();
  const secret = (await page.textContent('#otp-secret')).trim();
  await page.fill('#code', totp(secret, await serverNow()));
  await follow(page, 'button[type=submit]');
  assert.ok((await page.$$('#recovery-codes li')).length > 0, 'recovery codes shown once');
  await follow(page, 'main a.button');
  assert.equal(new URL(page.url()).pathname, '/console/', 'staff land in the console');
  return { context, page, csp };
}

test('an operator onboards a customer in the console and invites its first admin, who signs in to the portal', async () => {
  const { context, page, csp } = await staffMember('olga@regrooter.example', 'Olga Operator', ['operator']);
  await record(context, page, 'console-home-operator');
  await follow(page, 'nav.main a[href="/console/tenants"]');

  // A mistaken form: every failing field named at once, next to its field.
  await page.fill('#id', 'Not An Id');
  await page.fill('#name', '');
  await page.fill('#contact_email', 'not-an-address');
  await follow(page, 'main form[action="/console/tenants"] button[type=submit]');
  assert.equal((await page.$$('#errors li')).length, 3, await page.textContent('#errors'));
  assert.ok(await page.$('#id-error') && await page.$('#name-error') && await page.$('#contact_email-error'));
  await shoot(context, page, 'console-tenant-mistake');

  await page.fill('#id', 'acme');
  await page.fill('#name', 'ACME GmbH');
  await page.fill('#contact_email', 'security@acme.example');
  await follow(page, 'main form[action="/console/tenants"] button[type=submit]');
  assert.match(await page.textContent('main [role=status]'), /ACME GmbH ist angelegt/);
  assert.match(await page.textContent('#tenants'), /acme/);

  await page.fill('#admin-name-acme', 'Ada Admin');
  await page.fill('#admin-email-acme', 'ada@acme.example');
  await follow(page, 'form[action="/console/tenants/acme/admin"] button[type=submit]');
  assert.match(await page.textContent('main [role=status]'), /ada@acme\.example/);
  assert.doesNotMatch(await page.content(), /activate\?token=/, 'the operator never sees the link');
  await shoot(context, page, 'console-tenant-invited');
  await page.goto(`${base}/console/tenants`);
  await record(context, page, 'console-tenants');
  // A second first admin is refused, with what to do instead.
  await page.fill('#admin-name-acme', 'Other');
  await page.fill('#admin-email-acme', 'other@acme.example');
  await follow(page, 'form[action="/console/tenants/acme/admin"] button[type=submit]');
  assert.match(await page.textContent('main [role=alert]'), /schon eine Administration/);
  assert.deepEqual(csp, [], 'no Content Security Policy violation');
  await context.close();

  // The invited admin activates from the mailed link and signs in to the portal.
  const mail = await mailTo(platform, 'invitation-', 'ada@acme.example');
  const link = mail.match(/https?:\/\/\S+\/portal\/session\/activate\?token=\S+/)[0];
  const admin = await browser.newContext({ locale: 'de-DE' });
  const adminPage = await admin.newPage();
  const password = 'ada runs the acme account';
  await adminPage.goto(link);
  await adminPage.fill('#password', password);
  await adminPage.fill('#password_again', password);
  await follow(adminPage, 'button[type=submit]');
  await adminPage.fill('#email', 'ada@acme.example');
  await adminPage.fill('#password', password);
  await follow(adminPage, 'button[type=submit]');
  assert.ok(await adminPage.$('#otp-secret'), 'customers too enrol a second factor first');
  await secondFactor(platform, adminPage, 'ada@acme.example');
  assert.equal(new URL(adminPage.url()).pathname, '/portal/');
  // A customer's account opens no console page.
  const refused = await adminPage.goto(`${base}/console/`);
  assert.equal(refused.status(), 403);
  await admin.close();
  await platform.advance('PT1M'); // the edge allows five sign-in steps a minute from one client
});

test('an operator invites a staff member by mail, changes the role, disables and enables the account', async () => {
  const { context, page, csp } = await staffMember('otto@regrooter.example', 'Otto Operator', ['operator']);
  await follow(page, 'nav.main a[href="/console/staff"]');
  await page.fill('#name', 'Rita Reader');
  await page.fill('#email', 'rita@regrooter.example');
  await page.selectOption('#role', 'read_only_support');
  await follow(page, 'main form[action="/console/staff"] button[type=submit]');
  assert.match(await page.textContent('main [role=status]'), /rita@regrooter\.example/);
  assert.doesNotMatch(await page.content(), /activate\?token=/, 'the operator never sees the link');
  await shoot(context, page, 'console-staff-invited');

  const mail = await mailTo(platform, 'staff-invitation-', 'rita@regrooter.example');
  assert.match(mail, /zweiten Faktor/);
  const link = mail.match(/https?:\/\/\S+\/portal\/session\/activate\?token=\S+/)[0];
  const rita = await activateAndEnrol(link, 'rita@regrooter.example', 'Rita Reader');
  assert.equal(await rita.page.$('nav.main a[href="/console/reports"]'), null, 'support reads no reports');

  // New roles (two at once) end her sessions; disabling ends them too, enabling lets her sign
  // in again.
  await page.goto(`${base}/console/staff`);
  const row = page.locator('tr', { hasText: 'Rita Reader' });
  await row.locator('details.roles summary').click();
  await row.locator('input[name="role.read_only_support"]').uncheck();
  await row.locator('input[name="role.security_officer"]').check();
  await row.locator('input[name="role.data_protection_officer"]').check();
  await Promise.all([page.waitForNavigation(), row.locator('form[action$="/roles"] button').click()]);
  assert.match(await page.textContent('main [role=status]'), /neue Rollen/);
  assert.match(await page.locator('tr', { hasText: 'Rita Reader' }).locator('td').first().textContent(),
    /Datenschutzbeauftragte\(r\), Sicherheitsteam/);
  await rita.page.goto(`${base}/console/reports`);
  assert.match(new URL(rita.page.url()).pathname, /\/portal\/session\/sign-in$/, 'her session ended with the role change');
  await Promise.all([page.waitForNavigation(), page.locator('tr', { hasText: 'Rita Reader' }).locator('form[action$="/disable"] button').click()]);
  assert.match(await page.textContent('main [role=status]'), /gesperrt/);
  assert.match(await page.locator('tr', { hasText: 'Rita Reader' }).textContent(), /gesperrt/);
  await page.goto(`${base}/console/staff`);
  await record(context, page, 'console-staff');
  await Promise.all([page.waitForNavigation(), page.locator('tr', { hasText: 'Rita Reader' }).locator('form[action$="/enable"] button').click()]);
  assert.match(await page.textContent('main [role=status]'), /wieder freigeschaltet/);

  // Rita lost her phone: Otto asks for her second factor to be reset; he cannot approve it
  // himself, a second operator does; she is told by mail and enrols a new one at sign-in.
  await Promise.all([page.waitForNavigation(), page.locator('tr', { hasText: 'Rita Reader' }).locator('form[action$="/second-factor-reset"] button').click()]);
  assert.match(await page.textContent('main [role=status]'), /beantragt/);
  const asked = page.locator('tr', { hasText: 'Rita Reader' });
  assert.match(await asked.textContent(), /Sie haben am .* beantragt, den zweiten Faktor zurückzusetzen/);
  assert.equal(await asked.locator('form[action$="/second-factor-reset/approval"]').count(), 0, 'not by the one who asked');
  await page.goto(`${base}/console/staff`);
  await record(context, page, 'console-staff-reset-asked');
  await advance('PT1M');
  const ulla = await staffMember('ulla@regrooter.example', 'Ulla Operator', ['operator']);
  await ulla.page.goto(`${base}/console/staff`);
  const waiting = ulla.page.locator('tr', { hasText: 'Rita Reader' });
  assert.match(await waiting.textContent(), /Otto Operator hat am .* beantragt, den zweiten Faktor zurückzusetzen/);
  await Promise.all([ulla.page.waitForNavigation(), waiting.locator('form[action$="/second-factor-reset/approval"] button').click()]);
  assert.match(await ulla.page.textContent('main [role=status]'), /zweiter Faktor zurückgesetzt/);
  assert.match(await ulla.page.locator('tr', { hasText: 'Rita Reader' }).textContent(), /ohne zweiten Faktor/);
  await shoot(ulla.context, ulla.page, 'console-staff-reset-approved');
  const told = await mailTo(platform, 'second-factor-reset-', 'rita@regrooter.example');
  assert.match(told, /wurde der zweite Faktor Ihres Kontos zurückgesetzt/);
  assert.match(told, /security@regrooter\.de/);
  await advance('PT1M');
  await rita.page.goto(`${base}/console/`);
  assert.match(new URL(rita.page.url()).pathname, /\/portal\/session\/sign-in$/, 'her sessions ended with the reset');
  await rita.page.fill('#email', 'rita@regrooter.example');
  await rita.page.fill('#password', 'Rita Reader keeps the platform honest');
  await follow(rita.page, 'button[type=submit]');
  assert.ok(await rita.page.$('#otp-secret'), 'a new second factor is enrolled before any console page');

  assert.deepEqual([...csp, ...ulla.csp], [], 'no Content Security Policy violation');
  assert.deepEqual(rita.csp, [], 'no Content Security Policy violation');
  await ulla.context.close();
  await rita.context.close();
  await context.close();
});

test('a security officer triages a report into an incident, sends the notice and sees the 48-hour deadline met', async () => {
  // A report through the public form.
  const reporter = await browser.newContext({ locale: 'de-DE' });
  const form = await reporter.newPage();
  await form.goto(`${base}/security/report`);
  await form.fill('#description', 'Die Exportfunktion liefert Datensätze anderer Kunden, darunter die von ACME.');
  await form.fill('#affected_parties', 'ACME GmbH');
  await form.fill('#personal_data_kind', 'Namen, E-Mail-Adressen');
  await form.fill('#scope', 'etwa 140 Personen');
  await form.fill('#impact_assessment', 'Phishing-Risiko');
  await form.fill('#cvss_vector', 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N');
  await follow(form, 'button[type=submit]');
  await reporter.close();

  const { context, page, csp } = await staffMember('sami@regrooter.example', 'Sami Security', ['security_officer']);
  await record(context, page, 'console-home-security');
  await follow(page, 'nav.main a[href="/console/reports"]');
  assert.match(await page.textContent('#reports'), /Exportfunktion liefert/, 'the inbox shows what a report says');
  await record(context, page, 'console-reports');
  await follow(page, '#reports tbody tr a');
  // The reporter's CVSS v4.0 vector, scored (a published record gives it 9.3, critical).
  assert.match(await page.textContent('main dl'), /9,3 · kritisch · CVSS:4\.0\/AV:N/);
  await record(context, page, 'console-report');

  // A question to the reporter, who left no contact: it waits on the status page. An empty
  // message is named at its field; an attack quoted on purpose passes the WAF.
  assert.match(await page.textContent('#text-hint'), /keinen Kontakt/);
  await follow(page, 'form[action$="/messages"] button[type=submit]');
  assert.match(await page.textContent('#text-error'), /Bitte eine Nachricht schreiben/);
  await page.fill('#text', "Kam der Export über /export?tenant=' OR 1=1 -- zustande?");
  await follow(page, 'form[action$="/messages"] button[type=submit]');
  assert.match(await page.textContent('main [role=status]'), /Nachricht ist gesendet; sie steht auf der Statusseite/);
  assert.match(await page.textContent('ol.messages'), /Sicherheitsteam · [\s\S]*OR 1=1 -- zustande\?/);
  await shoot(context, page, 'console-report-message');

  // The incident file with mistakes: every failing field at once, the form kept.
  await page.fill('#title', '');
  await page.fill('#discovered_at', '');
  await page.fill('#subjects_min', 'etwa');
  await page.fill('#data_set_name', 'Kundenexport');
  await follow(page, 'form:has(input[name=outcome][value=incident]) button[type=submit]');
  const errors = await page.textContent('#errors');
  for (const field of ['title', 'discovered_at', 'breach_types', 'nature_and_scope', 'subjects', 'likely_consequences']) {
    assert.ok(await page.$(`#${field}-error`), `${field} refused: ${errors}`);
  }
  assert.equal(await page.inputValue('#data_set_name'), 'Kundenexport', 'what was typed stays');
  await shoot(context, page, 'console-incident-form-mistake');

  const now = await serverNow();
  const local = new Date(Date.parse(now) + 3600_000).toISOString().slice(0, 16); // Berlin, UTC+1
  await page.fill('#title', 'Export liefert fremde Datensätze');
  await page.fill('#customer_title', 'Fehler im Datenexport');
  await page.fill('#discovered_at', local);
  await page.fill('#aware_at', local);
  await page.check('#breach-confidentiality');
  await page.fill('#nature_and_scope', 'Der Export lieferte an zwei Kunden Datensätze von ACME.');
  await page.check('#category-contact');
  await page.fill('#subjects_min', '100');
  await page.fill('#subjects_max', '140');
  await page.fill('#records_min', '140');
  await page.fill('#records_max', '140');
  await page.fill('#likely_consequences', 'Phishing-Versuche gegen die Betroffenen.');
  // What customers read may be given in English as well (here the nature and scope only).
  await page.fill('#nature_and_scope_en', "The export delivered ACME's records to two other customers.");
  await page.fill('#data_set_tenant', 'acme');
  await follow(page, 'form:has(input[name=outcome][value=incident]) button[type=submit]');
  assert.match(new URL(page.url()).pathname, /^\/console\/incidents\/.+/);
  const incidentUrl = page.url();
  // The first page: one open incident and its deadline due first, linked.
  await page.goto(`${base}/console/`);
  assert.match(await page.textContent('#card-incidents + p.figure'), /^1$/);
  assert.match(await page.textContent('section[aria-labelledby=card-incidents]'), /Nächste Frist: Export liefert fremde Datensätze/);
  assert.ok(await page.$(`section[aria-labelledby=card-incidents] a[href="${new URL(incidentUrl).pathname}"]`), 'the incident is linked');
  await page.goto(incidentUrl);
  assert.match(await page.textContent('#deadlines'), /Kunde acme/);
  assert.match(await page.textContent('#deadlines'), /offen/, 'the 48 hours run');
  assert.match(await page.textContent('#deadlines'), /noch 4[78] h \d\d min/);
  await record(context, page, 'console-incident');

  // With the script the countdown ticks on from the server's time of rendering (the browser's
  // clock only measures the time since); the button pauses it.
  const live = await context.newPage();
  await live.clock.install();
  await live.goto(incidentUrl);
  const figure = live.locator('#deadlines [data-due] strong').first();
  const minutesOf = (text) => {
    const [, h, m] = text.match(/^(\d+) h (\d+) min$/);
    return Number(h) * 60 + Number(m);
  };
  const before = minutesOf(await figure.textContent());
  await live.clock.fastForward('02:00:00');
  const ticked = await figure.textContent();
  assert.ok([120, 121].includes(before - minutesOf(ticked)), `${before} → ${ticked}`);
  await live.click('#countdown-control');
  assert.equal(await live.getAttribute('#countdown-control', 'aria-pressed'), 'true');
  await live.clock.fastForward('01:00:00');
  assert.equal(await figure.textContent(), ticked, 'paused');
  await live.close();

  // What was learnt since triage goes into the file: mistakes named at once with what was
  // typed kept, then saved; only the changed fields reach the audit trail.
  await follow(page, `a[href="${new URL(incidentUrl).pathname}/file"]`);
  assert.equal(await page.inputValue('#subjects_max'), '140', 'the file as it reads');
  assert.equal(await page.$('#aware_at'), null, 'the times stay as recorded at triage');
  await page.fill('#subjects_max', '90');
  await page.fill('#likely_consequences', '');
  await follow(page, 'main form[action$="/file"] button[type=submit]');
  assert.equal((await page.$$('#errors li')).length, 2, await page.textContent('#errors'));
  assert.ok(await page.$('#subjects-error') && await page.$('#likely_consequences-error'), 'both named');
  assert.equal(await page.inputValue('#subjects_max'), '90', 'what was typed stays');
  await shoot(context, page, 'console-incident-file-mistakes');
  await page.fill('#subjects_max', '180');
  await page.fill('#likely_consequences', 'Phishing-Versuche; Zugangsdaten nicht betroffen.');
  await follow(page, 'main form[action$="/file"] button[type=submit]');
  assert.match(await page.textContent('main [role=status]'), /Akte geändert/);
  assert.match(await page.textContent('main'), /100 – 180/);
  assert.match(await page.textContent('#audit'), /incident\.updated/);
  await page.goto(`${incidentUrl}/file`);
  await record(context, page, 'console-incident-file');
  await page.goto(incidentUrl);

  // Measures as a timeline: an empty one refused next to its fields, then recorded.
  await follow(page, 'form[action$="/measures"] button[type=submit]');
  assert.ok(await page.$('#measure-what-error') && await page.$('#measure-owner-error'), 'both fields named');
  await page.selectOption('#measure-kind', 'containment');
  await page.fill('#measure-what', 'Export für alle Kunden abgeschaltet');
  await page.fill('#measure-what-en', 'Export switched off for all customers');
  await page.fill('#measure-owner', 'Plattformteam');
  await follow(page, 'form[action$="/measures"] button[type=submit]');
  assert.match(await page.textContent('#measures'), /Export für alle Kunden abgeschaltet/);
  // The assessment takes the file's facts; only what the file does not say is asked.
  await page.check('#encrypted_state_of_the_art-no');
  await page.check('#exfiltration-likely');
  await follow(page, 'form[action$="/assessment"] button[type=submit]');
  assert.match(await page.textContent('main [role=status]'), /Bewertet/);
  assert.ok((await page.$$('#reasons li')).length > 0, 'the engine names its reasons');
  assert.match(await page.textContent('#reasons'), /Empfindlichkeit 1 von 4 aus den Datenkategorien \(Kontaktdaten\)/, 'in the page\'s language');
  assert.match(await page.textContent('#advice'), /Wir sind Auftragsverarbeiter für acme/);
  // Left unknown, whether vulnerable people are affected decides the level: provisional, and asked.
  assert.match(await page.textContent('#provisional'), /vorläufig/);
  assert.match(await page.textContent('#to-find-out'), /Sind schutzbedürftige Personen/);
  assert.ok(await page.isChecked('#encrypted_state_of_the_art-no') && await page.isChecked('#exfiltration-likely'), 'the answers stay as given');
  // The same in English (looked at as a screenshot and checked by axe), then back to German.
  await page.goto(`${incidentUrl}?lang=en`);
  assert.match(await page.textContent('#provisional'), /provisional/);
  assert.match(await page.textContent('#to-find-out'), /Are vulnerable people/);
  assert.match(await page.textContent('#reasons'), /Provisional: not known yet, and deciding the outcome: whether vulnerable people are affected\./);
  await shoot(context, page, 'console-incident-assessed');
  await page.goto(`${incidentUrl}?lang=de`);
  // An override needs its reasons.
  await page.fill('#justification', 'zu kurz');
  await follow(page, 'form[action$="/override"] button[type=submit]');
  assert.ok(await page.$('#justification-error'), 'a short justification is refused');
  await shoot(context, page, 'console-incident-assessed');

  // The notice as it would go out, then sent; the deadline turns met.
  assert.match(await page.textContent('details.notice-message'), /security@acme\.example/);
  await advance('PT3H');
  await page.goto(incidentUrl); // the access token expired meanwhile: renewed from the refresh cookie
  await follow(page, 'form[action$="/notices"] button[type=submit]');
  assert.match(await page.textContent('main [role=status]'), /Benachrichtigungen übergeben: 1/);
  assert.match(await page.textContent('#deadlines'), /erfüllt/);
  await shoot(context, page, 'console-incident-notified');
  // Told once, the customer gets updates as more is known: previewed, then sent, the first
  // notice named; the deadline stays met by the first.
  assert.match(await page.textContent('#follow-up ~ ul'), /acme: erstmals benachrichtigt/);
  const update = page.locator('#follow-up ~ details.notice-message');
  assert.match(await update.textContent(), /Aktualisierung: .*Dies ergänzt unsere Meldung vom/s);
  await follow(page, 'form:has(input[name=follow_up]) button[type=submit]');
  assert.match(await page.textContent('main [role=status]'), /Benachrichtigungen übergeben: 1/);
  assert.match(await page.textContent('#messages'), /Aktualisierung: /);
  await shoot(context, page, 'console-incident-follow-up');
  assert.match(await page.textContent('#deadlines'), /erfüllt/);
  const incidentId = new URL(incidentUrl).pathname.split('/').pop();
  const updateMail = await mailTo(platform, `${incidentId}-acme-2`, 'security@acme.example');
  assert.match(updateMail, /This updates our notice of/);
  // Each part in its language: the English wording where given, else the German, said so.
  const unwrapped = updateMail.replace(/=\r?\n/g, '').replace(/=27/g, "'");
  assert.match(unwrapped, /The export delivered ACME's records to two other customers\./);
  assert.match(unwrapped, /- Export switched off for all customers \(done\)/);
  assert.match(unwrapped, /\[in German\] Phishing-Versuche; Zugangsdaten nicht betroffen\./);
  // A notice made outside the platform is recorded with its reference (a missing one is named).
  await follow(page, 'form[action$="/recorded-notices"] button[type=submit]');
  assert.ok(await page.$('#notice-reference-error'), 'the reference is asked for');
  await page.selectOption('#notice-duty', 'supervisory_authority');
  await page.fill('#notice-reference', 'LfDI BW 2026-1234');
  await follow(page, 'form[action$="/recorded-notices"] button[type=submit]');
  assert.match(await page.textContent('main [role=status]'), /Festgehalten/);
  // Every change is in the incident's audit chain, verified on the page.
  assert.match(await page.textContent('#chain'), /unversehrt/);
  assert.ok((await page.$$('#audit tbody tr')).length >= 4, 'created, measure, assessment, notice');
  // The Art. 33(5) register lists it with who was told; its CSV export downloads.
  await follow(page, 'nav.main a[href="/console/register"]');
  assert.match(await page.textContent('#register'), /Export liefert fremde Datensätze/);
  assert.match(await page.textContent('#register'), /Kunde acme/);
  assert.match(await page.textContent('#register'), /Aufsichtsbehörde/);
  await record(context, page, 'console-register');
  const csv = await context.request.get(`${base}/console/register.csv`);
  assert.equal(csv.status(), 200);
  assert.match(csv.headers()['content-disposition'], /breach-register\.csv/);
  assert.match(await csv.text(), /Export liefert fremde Datensätze/);
  await follow(page, 'nav.main a[href="/console/incidents"]');
  assert.match(await page.textContent('#incidents'), /keine offene Frist/);
  await record(context, page, 'console-incidents');
  // The security team's roles show no billing or customer pages.
  assert.equal(await page.$('nav.main a[href="/console/claims"]'), null);
  assert.equal((await page.goto(`${base}/console/tenants`)).status(), 403);
  assert.deepEqual(csp, [], 'no Content Security Policy violation');
  await context.close();
});

test('the data protection officer sets a legal hold on a customer’s data', async () => {
  const { context, page, csp } = await staffMember('dora@regrooter.example', 'Dora Datenschutz', ['data_protection_officer']);
  await follow(page, 'nav.main a[href="/console/holds"]');
  // Nothing filled in: every failing field at once.
  await follow(page, 'main form[action="/console/holds"] button[type=submit]');
  for (const field of ['tenant', 'legal_basis', 'categories']) {
    assert.ok(await page.$(`#${field}-error`), `${field} refused: ${await page.textContent('main')}`);
  }
  await shoot(context, page, 'console-hold-mistake');
  await page.fill('#tenant', 'acme');
  await page.fill('#legal_basis', '§ 147 Abs. 1 Nr. 4 AO: Buchungsbelege, 8 Jahre');
  await page.check('#hold-financial');
  await follow(page, 'main form[action="/console/holds"] button[type=submit]');
  assert.match(await page.textContent('main [role=status]'), /Gesetzt für acme/);
  assert.match(await page.textContent('#holds'), /§ 147 Abs\. 1 Nr\. 4 AO/);
  assert.match(await page.textContent('#holds'), /wirksam/);
  await page.goto(`${base}/console/holds`);
  await record(context, page, 'console-holds');

  // A breach of our own data: the text for the supervisory authority, prepared from the file.
  const security = platform.token(['--role', 'security_officer', '--now', await serverNow()]);
  const now = await serverNow();
  const incident = await api('POST', '/api/incidents', security, {
    title: 'Newsletter-Liste offen', customer_title: null, discovered_at: now, aware_at: now,
    breach_types: ['confidentiality'], nature_and_scope: 'Die Newsletter-Liste war ohne Anmeldung abrufbar.',
    data_categories: ['contact'], approx_data_subjects: { min: 900, max: 1200 },
    approx_records: { min: 1200, max: 1200 }, likely_consequences: 'Unerwünschte Werbung, Phishing.',
    data_sets: [{ name: 'Newsletter-Liste', role: 'controller' }],
  });
  await page.goto(`${base}/console/incidents/${incident.id}`);
  assert.match(await page.textContent('#authority-text'), /Aufsichtsbehörde/);
  await page.click('#authority-text ~ details.notice-message summary');
  assert.match(await page.textContent('#authority-text ~ details.notice-message pre'), /a\) Art der Verletzung: Verletzung der Vertraulichkeit/);
  await record(context, page, 'console-incident-authority-text');
  assert.deepEqual(csp, [], 'no Content Security Policy violation');
  await context.close();
});

test('billing decides a claim from the queue across customers; a 250 € voluntary credit needs a second billing approver', async () => {
  const operator = platform.token(['--role', 'operator', '--now', await serverNow()]);
  // 40 hours down in November: below 95.0 %; acme's admin claims it once the month is over and
  // invoiced.
  await api('POST', '/api/sla/outages', operator, {
    start: '2026-11-03T08:00:00Z', end: '2026-11-05T00:00:00Z', tenant: 'acme',
    description: 'Storage failure in the primary region', evidence: 'status page entry',
  });
  await advance('264h');
  await invoicedNovember();
  const admin = platform.token(['--role', 'customer_admin', '--tenant', 'acme', '--now', await serverNow()]);
  await api('POST', '/api/sla/tenants/acme/claims', admin, {
    month: '2026-11', outages: [{ start: '2026-11-03T08:00:00Z', end: '2026-11-05T00:00:00Z' }],
  });

  const { context, page, csp } = await staffMember('bea@regrooter.example', 'Bea Billing', ['billing_admin'], 'en-GB');
  await follow(page, 'nav.main a[href="/console/claims"]');
  assert.match(await page.textContent('main'), /1 awaiting a decision/);
  assert.ok(await page.$('section.card figure.chart svg rect.bar.down'), 'the confirmed downtime is drawn');
  assert.match(await page.textContent('section.card'), /The month's uptime was 94\.444 %, below the promised 95\.00 %/);
  await page.goto(`${base}/console/claims?lang=de`);
  assert.match(await page.textContent('section.card'), /Die Verfügbarkeit im Monat lag bei 94\.444 %, unter den zugesagten 95\.00 %/);
  await page.goto(`${base}/console/claims?lang=en`);
  await record(context, page, 'console-claims');
  await page.fill('section.card textarea[name=reason]', 'Confirmed by the measurements: 40 hours down in November.');
  await follow(page, 'section.card form button[type=submit]');
  // (The screenshots above left the page in German.)
  assert.match(await page.textContent('main [role=status]'), /Genehmigt/);
  assert.match(await page.textContent('main'), /0 warten auf Entscheidung/);
  await shoot(context, page, 'console-claims-decided');

  // A voluntary credit of 250 €: asked for by Bea, it waits for a second approver.
  await follow(page, 'nav.main a[href="/console/credits"]');
  await page.fill('#tenant', 'acme');
  await page.fill('#amount', 'viel');
  await page.fill('#reason', '');
  await follow(page, 'main form[action="/console/credits"] button[type=submit]');
  assert.ok(await page.$('#amount-error') && await page.$('#reason-error'), await page.textContent('main'));
  await page.fill('#amount', '250,00');
  await page.fill('#reason', 'Goodwill after the November outage');
  await follow(page, 'main form[action="/console/credits"] button[type=submit]');
  assert.match(await page.textContent('main [role=status]'), /zweiten Person|zweite Person/);
  assert.match(await page.textContent('#credits'), /wartet auf zweite Freigabe/);
  assert.equal(await page.$('#credits form[action$="/approval"]'), null, 'the one who asked cannot approve');
  await shoot(context, page, 'console-credit-asked');
  assert.deepEqual(csp, [], 'no Content Security Policy violation');
  await context.close();

  // A second billing user approves it; it is then carried to Stripe by the credit job.
  const second = await staffMember('ben@regrooter.example', 'Ben Billing', ['billing_admin']);
  await follow(second.page, 'nav.main a[href="/console/credits"]');
  await record(second.context, second.page, 'console-credits');
  await follow(second.page, '#credits form[action$="/approval"] button[type=submit]');
  assert.match(await second.page.textContent('main [role=status]'), /Freigegeben/);
  assert.doesNotMatch(await second.page.textContent('#credits'), /wartet auf zweite Freigabe/);
  assert.match(await second.page.textContent('#credits'), /freigegeben von/);
  await shoot(second.context, second.page, 'console-credit-approved');
  assert.deepEqual(second.csp, [], 'no Content Security Policy violation');
  await second.context.close();
});

test('an operator edits a customer’s breach contact; a backdated service end needs a second operator', async () => {
  const operator = platform.token(['--role', 'operator', '--now', await serverNow()]);
  await api('PUT', '/api/tenants/initech', operator, { name: 'Initech AG', contact_email: 'old@initech.example' });
  const first = await staffMember('paula@regrooter.example', 'Paula Operator', ['operator']);
  await first.page.goto(`${base}/console/tenants`);
  await follow(first.page, 'a[href="/console/tenants/initech"]');
  assert.match(await first.page.textContent('#contract'), /binnen 48 Stunden/);
  assert.equal(await first.page.inputValue('#contact_email'), 'old@initech.example');
  // A mistaken address is named next to its field; a good one is saved.
  await first.page.fill('#contact_email', 'kein-kontakt');
  await follow(first.page, 'form[action$="/profile"] button[type=submit]');
  assert.ok(await first.page.$('#contact_email-error'), 'the address is refused');
  await first.page.fill('#contact_email', 'security@initech.example');
  await follow(first.page, 'form[action$="/profile"] button[type=submit]');
  assert.match(await first.page.textContent('main [role=status]'), /Gespeichert/);
  assert.equal(await first.page.inputValue('#contact_email'), 'security@initech.example');
  // The contract's figures: what breaks a public promise or cannot be read is named, every
  // field at once, with what was typed kept; a contract in the customer's favour is saved.
  await first.page.click('#contract-edit summary');
  await first.page.fill('#customer_notification', '96');
  await first.page.selectOption('#customer_notification_unit', 'hours');
  await first.page.fill('#monthly_uptime_target', '90');
  await first.page.fill('#sla_credit', 'viel');
  await follow(first.page, 'form[action$="/contract"] button[type=submit]');
  assert.equal((await first.page.$$('#errors li')).length, 3, await first.page.textContent('#errors'));
  for (const field of ['customer_notification', 'monthly_uptime_target', 'sla_credit']) {
    assert.ok(await first.page.$(`#${field}-error`), `${field} is refused`);
  }
  assert.equal(await first.page.inputValue('#customer_notification'), '96', 'what was typed stays');
  await shoot(first.context, first.page, 'console-tenant-contract-mistakes');
  await first.page.fill('#customer_notification', '24');
  await first.page.fill('#sla_credit', '10');
  await first.page.fill('#monthly_uptime_target', '99,5');
  await follow(first.page, 'form[action$="/contract"] button[type=submit]');
  assert.match(await first.page.textContent('main [role=status]'), /Vertrag gespeichert/);
  assert.match(await first.page.textContent('#contract'), /binnen 24 Stunden/);
  assert.match(await first.page.textContent('#contract'), /99\.50 %/);
  assert.match(await first.page.textContent('#contract'), /10\.00 %/);
  const terms = await api('GET', '/api/tenants/initech', operator);
  assert.deepEqual(terms.contract?.customer_notification, { hours: 24 }, JSON.stringify(terms));
  // Five days back: beyond the grace, so it waits for a second operator.
  const fiveDaysAgo = new Date(Date.parse(await serverNow()) + 3600_000 - 5 * 86400_000).toISOString().slice(0, 16);
  await first.page.fill('#ended_at', fiveDaysAgo);
  await follow(first.page, 'form[action$="/service-end"] button[type=submit]');
  assert.match(await first.page.textContent('#pending-service-end'), /wartet auf die Freigabe/);
  assert.equal(await first.page.$('form[action$="/service-end/approval"]'), null, 'not by the one who asked');
  await shoot(first.context, first.page, 'console-tenant-service-end-asked');
  await first.context.close();

  await advance('PT1M'); // the clock stands still otherwise, and with it the sign-in rate limit
  const second = await staffMember('quentin@regrooter.example', 'Quentin Operator', ['operator']);
  await second.page.goto(`${base}/console/tenants/initech`);
  await record(second.context, second.page, 'console-tenant');
  await follow(second.page, 'form[action$="/service-end/approval"] button[type=submit]');
  assert.match(await second.page.textContent('main [role=status]'), /Freigegeben/);
  assert.match(await second.page.textContent('main'), /beendet/);
  assert.deepEqual([...first.csp, ...second.csp], [], 'no Content Security Policy violation');
  await second.context.close();
});

test('an operator sees the probes and the month, and records an outage and planned maintenance with evidence', async () => {
  await advance('PT5M'); // the probes run each minute of the platform's clock
  const { context, page, csp } = await staffMember('vera@regrooter.example', 'Vera Operator', ['operator']);
  await follow(page, 'nav.main a[href="/console/sla"]');
  assert.match(new URL(page.url()).pathname, /^\/console\/sla\/\d{4}-\d{2}$/, 'the current month');
  const rows = await page.$$eval('#probe-state tbody tr', (trs) => trs.map((tr) => tr.textContent));
  assert.ok(rows.length >= 1, 'each probe target from each vantage point');
  assert.ok(rows.some((row) => /eu-central-1.*erreichbar/.test(row)), rows.join(' | '));
  // Berlin time (UTC+1 in November) as the form's fields take it.
  const local = async (hoursBack) => new Date(Date.parse(await serverNow()) + 3600_000 - hoursBack * 3600_000).toISOString().slice(0, 16);

  // A mistaken outage: every failing field at once, nothing recorded.
  await page.fill('#outage_start', await local(2));
  await page.fill('#outage_end', await local(3));
  await follow(page, 'form[action$="/outages"] button[type=submit]');
  for (const field of ['outage_end', 'outage_description', 'outage_evidence']) {
    assert.ok(await page.$(`#${field}-error`), `${field} is named`);
  }
  assert.equal((await page.$$('#errors li')).length, 3, await page.textContent('#errors'));
  assert.equal(await page.inputValue('#outage_start'), await local(2), 'what was typed stays');
  await shoot(context, page, 'console-sla-outage-mistakes');
  await page.fill('#outage_end', await local(1));
  await page.fill('#outage_description', 'Portal answered 502 for every sign-in');
  await page.fill('#outage_evidence', 'INC-2211, load balancer log query 7f3a');
  await follow(page, 'form[action$="/outages"] button[type=submit]');
  assert.match(await page.textContent('main [role=status]'), /Ausfall erfasst/);
  assert.match(await page.textContent('#recorded-outages ~ table'), /INC-2211/);

  // Planned maintenance counts only when it was announced before it began.
  await page.fill('#exclusion_start', await local(6));
  await page.fill('#exclusion_end', await local(5));
  await page.selectOption('#exclusion_category', 'planned_maintenance');
  await page.fill('#exclusion_reason', 'Database upgrade');
  await page.fill('#exclusion_evidence', 'Status page post of the week before');
  await follow(page, 'form[action$="/exclusions"] button[type=submit]');
  assert.ok(await page.$('#exclusion_announced_at-error'), 'the announcement is required');
  await page.fill('#exclusion_announced_at', await local(7 * 24));
  await follow(page, 'form[action$="/exclusions"] button[type=submit]');
  assert.match(await page.textContent('main [role=status]'), /Ausnahme erfasst/);
  assert.match(await page.textContent('#recorded-exclusions ~ table'), /geplante, vorher angekündigte Wartung/);
  await page.goto(page.url().replace(/\/exclusions$/, ''));
  await record(context, page, 'console-sla');
  assert.deepEqual(csp, [], 'no Content Security Policy violation');
  await context.close();
});

test('a staff member adds a passkey on the own account page and signs in to the console with it', async () => {
  await advance('PT1M');
  const email = 'petra@regrooter.example';
  const { context, page, csp } = await staffMember(email, 'Petra Passkey', ['security_officer']);
  const { cdp, authenticatorId } = await virtualAuthenticator(context, page);
  await follow(page, 'nav.main a[href="/portal/account"]');
  assert.ok(await page.$('nav.main a[href="/console/reports"]'), 'inside the console\'s navigation');
  await record(context, page, 'console-account');
  await follow(page, 'a[href="/portal/account/passkeys/new"]');
  await page.fill('#name', 'YubiKey');
  await follow(page, 'form[data-passkey="create"] button[type=submit]');
  assert.equal((await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials.length, 1);
  await page.goto(`${base}/portal/account`);
  assert.match(await page.textContent('main table'), /YubiKey/);
  // Signed out and in again: the passkey is the second factor, and the console opens.
  await follow(page, 'header form button[type=submit]');
  await advance('PT1M');
  await page.goto(`${base}/portal/session/sign-in`);
  await page.fill('#email', email);
  await page.fill('#password', 'Petra Passkey keeps the platform honest');
  await follow(page, 'button[type=submit]');
  assert.equal(await page.isVisible('form[data-passkey="get"]'), true, 'the passkey step');
  await follow(page, 'form[data-passkey="get"] button[type=submit]');
  assert.equal(new URL(page.url()).pathname, '/console/');
  assert.deepEqual(csp, [], 'no Content Security Policy violation');
  await context.close();
});
