// The web app's languages (issue 27), in Chromium at a desktop's size (1280x800) and a phone's
// (390x844): the browser's language is spoken; the footer's picker overrides it, is remembered
// and tells the account; an OpenID Connect client's `ui_locales` wins for the sign-in and consent
// pages it sends the user to. Every page of a visitor, a user and an admin is visited in German,
// and fails the test when it shows a text of the English app that has no translation: the English
// texts come from `ng extract-i18n`, the German from src/i18n/de.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  ADMIN,
  PASSWORD,
  adminCookies,
  apiUrl,
  assertNoSidewaysScroll,
  pageAt,
  pkce,
  repoRoot,
  screenshot,
  signIn,
  startBrowser,
  startServer,
} from './harness.mjs';

const web = join(repoRoot, 'web');
const SIZES = [
  { name: 'desktop', phone: false },
  { name: 'phone', phone: true },
];

/** The English texts of the app, by id, as `ng extract-i18n` finds them. */
function englishTexts() {
  const out = mkdtempSync(join(tmpdir(), 'e2e-i18n-'));
  try {
    execFileSync(join(web, 'node_modules/.bin/ng'), ['extract-i18n', '--output-path', out, '--progress=false'], { cwd: web, stdio: 'ignore' });
    return JSON.parse(readFileSync(join(out, 'messages.json'), 'utf8')).translations;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** A language's texts, by id (src/i18n/<language>/*.json). */
function translations(language) {
  const dir = join(web, 'src/i18n', language);
  return Object.assign({}, ...readdirSync(dir).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8'))));
}

/** The runs of words of a message between its placeholders that are long enough to be telling. */
function fragments(message) {
  return message
    .split(/\{\$[^}]+\}|\{[A-Z_0-9]+, (?:plural|select),|[{}]|=\d+|\bother\b/)
    .map((f) => f.replace(/\s+/g, ' ').trim())
    .filter((f) => f.length >= 12 && /\p{L}+ \p{L}+/u.test(f));
}

/** The English fragments of `english` that `text` shows and that the language does not share. */
function untranslatedIn(text, english, translated) {
  const shown = text.replace(/\s+/g, ' ');
  const everyTranslation = Object.values(translated).join('\n');
  const found = new Set();
  for (const [id, message] of Object.entries(english)) {
    for (const fragment of fragments(message)) {
      if (shown.includes(fragment) && !everyTranslation.includes(fragment)) found.add(`${id}: “${fragment}”`);
    }
  }
  return [...found];
}

/** A translated message with its placeholders filled: tags dropped, values in order. */
function filled(message, ...values) {
  let next = 0;
  return message
    .replace(/\{\$(?:START|CLOSE)_[A-Z_0-9]+\}/g, '')
    .replace(/\{\$[A-Za-z_0-9]+\}/g, () => values[next++]);
}

async function language(page) {
  return page.getAttribute('html', 'lang');
}

/** Waits for the page to stop loading and animating, and for its lazy texts to be there. */
async function settle(page) {
  await page.waitForLoadState('networkidle');
  await page.locator('main').first().waitFor();
  await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok))));
}

describe('languages', () => {
  let server;
  let browser;
  let client;
  let english;
  const translated = { de: translations('de'), es: translations('es') };

  before(async () => {
    english = englishTexts();
    assert.ok(Object.keys(english).length > 300, 'the app has its texts marked for translation');
    server = await startServer();
    browser = await startBrowser();
    await server.signUp('greta');
    await server.signUp('pablo');
    const res = await fetch(apiUrl(server, '/api/admin/clients'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: await adminCookies(server) },
      body: JSON.stringify({ name: 'Acme Notes', redirectUris: ['http://127.0.0.1:9/cb'], scopes: ['openid', 'profile', 'email', 'roles'] }),
    });
    assert.equal(res.status, 201, `the client: ${await res.clone().text()}`);
    client = await res.json();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** Visits each page and fails on a text left in English; a screenshot of each. */
  async function sweep(page, size, lang, pages) {
    const problems = [];
    for (const [path, name] of pages) {
      await page.goto(`${server.url}${path}`);
      await settle(page);
      assert.equal(await language(page), lang, `${path}: the page's language`);
      const left = untranslatedIn(await page.locator('body').innerText(), english, translated[lang]);
      if (left.length) problems.push(`${path}:\n  ${left.join('\n  ')}`);
      await assertNoSidewaysScroll(page, `${path} in ${lang}`);
      await screenshot(page, `languages-${lang}-${name}-${size.name}`);
    }
    assert.deepEqual(problems, [], `texts shown in English on a ${lang} page`);
  }

  for (const size of SIZES) {
    test(`a German browser gets every page in German, none with an English text left (${size.name})`, async () => {
      const visitor = await pageAt(browser, size, 'de-DE');
      await sweep(visitor, size, 'de', [
        ['/', 'home'],
        ['/login', 'login'],
        ['/register', 'register'],
        ['/forgot-password', 'forgot-password'],
        ['/sign-in-link', 'sign-in-link'],
        ['/reset-password?token=x', 'reset-password'],
        ['/demo', 'demo'],
        ['/no-such-page', 'not-found'],
      ]);
      assert.equal(await visitor.locator('[data-testid="language-picker"]').inputValue(), 'de');
      await visitor.context().close();

      const user = await pageAt(browser, size, 'de-DE');
      await signIn(user, server, 'greta');
      await sweep(user, size, 'de', [
        ['/account', 'account-profile'],
        ['/account/security', 'account-security'],
        ['/account/sessions', 'account-sessions'],
        ['/account/apps', 'account-apps'],
        ['/account/linked', 'account-linked'],
        ['/account/api-keys', 'account-api-keys'],
        ['/demo/user', 'demo-user'],
        ['/device', 'device'],
        ['/admin/users', 'forbidden'],
      ]);
      await user.context().close();

      const admin = await pageAt(browser, size, 'de-DE');
      await signIn(admin, server, ADMIN.username, ADMIN.password);
      await sweep(admin, size, 'de', [
        ['/admin/users', 'admin-users'],
        ['/admin/audit', 'admin-audit'],
        ['/admin/roles', 'admin-roles'],
        ['/admin/groups', 'admin-groups'],
        ['/admin/clients', 'admin-clients'],
        ['/admin/providers', 'admin-providers'],
        ['/admin/branding', 'admin-branding'],
      ]);
      // Dates follow the language too (the audit log's first entry).
      await admin.goto(`${server.url}/admin/audit`);
      await settle(admin);
      assert.deepEqual(admin.problems, []);
      await admin.context().close();
    });

    test(`in German: the login page names the application, sign-up lands on login with the name filled in, an admin change is confirmed (${size.name})`, async () => {
      const de = translated.de;
      const page = await pageAt(browser, size, 'de-DE');
      const params = new URLSearchParams({
        response_type: 'code',
        client_id: client.clientId,
        redirect_uri: 'http://127.0.0.1:9/cb',
        scope: 'openid profile',
        state: 'st',
        code_challenge: pkce().challenge,
        code_challenge_method: 'S256',
      });
      await page.goto(`${server.url}/api/oauth/authorize?${params}`);
      await page.waitForURL((url) => url.pathname === '/login');
      await settle(page);
      const heading = (await page.locator('[data-testid="login-heading"]').innerText()).trim();
      assert.equal(heading, filled(de['auth.login.headingForClient'], 'Acme Notes', 'Portcullis'));
      await screenshot(page, `languages-de-login-app-${size.name}`);

      const username = `sigrid-${size.name}`;
      await page.goto(`${server.url}/register`);
      await page.fill('#reg-username', username);
      await page.fill('#reg-email', `${username}@example.com`);
      await page.fill('#reg-password', PASSWORD);
      await page.click('button[type="submit"]');
      await page.waitForURL(/\/login\?reason=registered$/);
      assert.equal((await page.locator('[data-testid="notice"]').innerText()).trim(), de['auth.login.noticeRegistered']);
      assert.equal(await page.inputValue('#login-username'), username);
      await page.context().close();

      const admin = await pageAt(browser, size, 'de-DE');
      await signIn(admin, server, ADMIN.username, ADMIN.password);
      await admin.goto(`${server.url}/admin/users`);
      await settle(admin);
      await admin.locator('tr', { hasText: username }).locator('[data-testid="disable"]').click();
      const confirmation = admin.locator('[data-testid="admin-confirmation"]');
      await confirmation.waitFor();
      assert.equal((await confirmation.innerText()).trim(), filled(de['users.table.nowDisabled'], username));
      await screenshot(admin, `languages-de-admin-confirmation-${size.name}`);
      await admin.context().close();
    });

    test(`a Spanish browser gets Spanish; the remembered choice beats the browser (${size.name})`, async () => {
      const page = await pageAt(browser, size, 'es-ES');
      await sweep(page, size, 'es', [['/login', 'login']]);
      const signInButton = (await page.locator('main button[type="submit"]').first().innerText()).trim();
      assert.equal(signInButton, translated.es['auth.login.signInButton']);
      await page.context().addCookies([{ name: 'portcullis_locale', value: 'de', url: server.url }]);
      await page.reload();
      await settle(page);
      assert.equal(await language(page), 'de', 'the cookie beats Accept-Language');
      await page.context().close();
    });

    test(`the footer's picker switches the language, remembers it and keeps it with the account (${size.name})`, async () => {
      const page = await pageAt(browser, size, 'en-US');
      await signIn(page, server, 'pablo');
      assert.equal(await language(page), 'en');
      await page.locator('[data-testid="language-picker"]').selectOption('es');
      await page.waitForFunction(() => document.documentElement.lang === 'es');
      await settle(page);
      assert.deepEqual(untranslatedIn(await page.locator('body').innerText(), english, translated.es), []);
      await screenshot(page, `languages-es-picked-${size.name}`);
      const cookie = (await page.context().cookies(server.url)).find((c) => c.name === 'portcullis_locale');
      assert.equal(cookie?.value, 'es');
      assert.ok(cookie.expires > Date.now() / 1000 + 300 * 86400, 'remembered for a long time');
      // The account keeps it, for its mails.
      const res = await page.request.get(`${server.url}/api/auth/locale`);
      assert.deepEqual(await res.json(), { locale: 'es' });
      // A new page of this browser speaks it from the start.
      const again = await page.context().newPage();
      await again.goto(`${server.url}/account/security`);
      await settle(again);
      assert.equal(await language(again), 'es');
      await again.locator('[data-testid="language-picker"]').selectOption('en');
      await again.waitForFunction(() => document.documentElement.lang === 'en');
      assert.deepEqual(await (await again.request.get(`${server.url}/api/auth/locale`)).json(), { locale: 'en' });
      await page.context().close();
    });

    test(`ui_locales: the sign-in and consent pages speak what the client asked for (${size.name})`, async () => {
      const page = await pageAt(browser, size, 'de-DE');
      const { challenge } = pkce();
      const params = new URLSearchParams({
        response_type: 'code',
        client_id: client.clientId,
        redirect_uri: 'http://127.0.0.1:9/cb',
        scope: 'openid profile email roles',
        state: 'st',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        ui_locales: 'fr-CA es-MX',
      });
      await page.goto(`${server.url}/api/oauth/authorize?${params}`);
      await page.waitForURL((url) => url.pathname === '/login');
      await settle(page);
      assert.equal(await language(page), 'es', 'the login page on the way to consent');
      // A reload of the login page keeps it: ui_locales rides in its returnUrl.
      await page.reload();
      await settle(page);
      assert.equal(await language(page), 'es');
      await page.fill('#login-username', 'greta');
      await page.fill('#login-password', PASSWORD);
      await page.click('button[type="submit"]');
      await page.waitForURL((url) => url.pathname === '/oauth/consent');
      await page.locator('[data-testid="consent-allow"]').waitFor();
      await settle(page);
      assert.equal(await language(page), 'es', 'the consent page');
      assert.deepEqual(untranslatedIn(await page.locator('body').innerText(), english, translated.es), []);
      await screenshot(page, `languages-es-consent-${size.name}`);
      // It is the client's wish for this sign-in, not the user's choice: nothing is remembered.
      const cookie = (await page.context().cookies(server.url)).find((c) => c.name === 'portcullis_locale');
      assert.equal(cookie, undefined);
      // The user's own pick on that page beats the client's wish: the page comes back without it.
      await page.locator('[data-testid="language-picker"]').selectOption('de');
      await page.waitForFunction(() => document.documentElement.lang === 'de');
      assert.equal(new URL(page.url()).pathname, '/oauth/consent');
      assert.equal(new URL(page.url()).searchParams.get('ui_locales'), null);
      await page.locator('[data-testid="consent-allow"]').waitFor();
      await page.context().close();
    });
  }
});
