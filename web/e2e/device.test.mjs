// The device authorization grant (RFC 8628) in the browser: a device (plain HTTP here)
// starts an authorization and polls the token endpoint; the user opens the
// verification_uri_complete it shows, is sent to the login page, signs in, comes back to
// /device with the code filled in, continues, sees the consent page's warning that a device
// asks, and allows; the page says the device is connected, and the device's next poll gets
// the tokens. Also: Deny (the poll gets access_denied), and a code that is not valid.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  ADMIN,
  assertHttpOnlySession,
  assertNoTokenVisible,
  expectText,
  newPage,
  PASSWORD,
  screenshot,
  sleep,
  startBrowser,
  startServer,
} from './harness.mjs';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
// The page's words (web/src/app/oauth/device.ts, consent.ts).
const DEVICE_WARNING =
  'A device is asking to sign in as you. Only continue if you started this yourself on a device you have in front of you, and the code matches.';
const DEVICE_APPROVED = 'Your device is connected. You can return to it now.';
const DEVICE_DENIED = 'You declined; the device was not connected.';
const DEVICE_CODE_INVALID = 'That code is not valid or has expired. Check the code on your device.';

/** The server's API from outside the browser (127.0.0.1: the same server, no browser cookies). */
const api = (server, path) => `${server.url.replace('localhost', '127.0.0.1')}${path}`;

/**
 * The admin registers a device-only public client through the admin API: the device grant
 * and refresh tokens, no redirect URI at all.
 */
async function registerDeviceClient(server, name) {
  const signin = await fetch(api(server, '/api/auth/signin'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: ADMIN.username, password: ADMIN.password }),
  });
  assert.equal(signin.status, 200, `admin signin: ${await signin.text()}`);
  const cookie = signin.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ');
  const res = await fetch(api(server, '/api/admin/clients'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie },
    body: JSON.stringify({ name, redirectUris: [], public: true, grantTypes: [DEVICE_GRANT, 'refresh_token'] }),
  });
  const body = await res.json();
  assert.equal(res.status, 201, `client create: ${JSON.stringify(body)}`);
  assert.deepEqual(body.redirectUris, []);
  assert.deepEqual([...body.grantTypes].sort(), [DEVICE_GRANT, 'refresh_token'].sort());
  assert.equal(body.clientSecret, undefined, 'a public client has no secret');
  return body.clientId;
}

/** The device's start: `POST /api/oauth/device_authorization` (a public client: client_id only). */
async function startDevice(server, clientId, scope = 'openid profile offline_access') {
  const res = await fetch(api(server, '/api/oauth/device_authorization'), {
    method: 'POST',
    body: new URLSearchParams({ client_id: clientId, scope }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, `device_authorization: ${JSON.stringify(body)}`);
  assert.match(body.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
  assert.equal(body.verification_uri, `${server.url}/device`);
  assert.equal(body.verification_uri_complete, `${server.url}/device?user_code=${body.user_code}`);
  assert.equal(body.expires_in, 600);
  assert.equal(body.interval, 5);
  return body;
}

/**
 * The device polling the token endpoint as RFC 8628 §3.5 says: at once, then every
 * `interval` seconds (5 more after a slow_down), until an answer other than
 * authorization_pending. Resolves with `{ answers, status, body }`: every `error` seen, and
 * the last answer.
 */
function pollUntilAnswered(server, clientId, device) {
  const answers = [];
  let interval = device.interval * 1000;
  const done = (async () => {
    const end = Date.now() + 30_000;
    for (;;) {
      const res = await fetch(api(server, '/api/oauth/token'), {
        method: 'POST',
        body: new URLSearchParams({ grant_type: DEVICE_GRANT, device_code: device.device_code, client_id: clientId }),
      });
      const body = await res.json();
      answers.push(body.error ?? 'tokens');
      if (body.error === 'slow_down') interval += 5_000;
      else if (body.error !== 'authorization_pending') return { answers, status: res.status, body };
      if (Date.now() > end) return { answers, status: res.status, body };
      await sleep(interval);
    }
  })();
  // Awaited by the test; a test that fails first leaves it to end on its own, quietly.
  done.catch(() => {});
  return { answers, done };
}

const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url'));

/** The login page's form, filled in and sent. */
async function logInOnLoginPage(page, username, password = PASSWORD) {
  await page.locator('#login-username').waitFor();
  await page.fill('#login-username', username);
  await page.fill('#login-password', password);
  await page.click('button[type="submit"]');
}

describe('device authorization grant (RFC 8628)', () => {
  let server;
  let browser;
  let clientId;
  /** dora's browser, signed in by the first test. */
  let page;

  before(async () => {
    server = await startServer();
    browser = await startBrowser();
    clientId = await registerDeviceClient(server, 'Living Room TV');
    await server.signUp('dora');
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('verification_uri_complete → login → the code filled in → consent with the device warning → Allow → the device gets tokens', async () => {
    const device = await startDevice(server, clientId);
    const poll = pollUntilAnswered(server, clientId, device);

    page = await newPage(browser);
    await page.goto(device.verification_uri_complete);
    await page.waitForURL(/\/login\?/);
    const returnUrl = new URL(page.url()).searchParams.get('returnUrl');
    assert.equal(returnUrl, `/device?user_code=${device.user_code}`, 'the login page brings the user back with the code');
    await logInOnLoginPage(page, 'dora');

    await page.waitForURL(/\/device\?user_code=/);
    const input = page.locator('#device-user-code');
    await input.waitFor();
    assert.equal(await input.inputValue(), device.user_code, 'the code is filled in from the link');
    await expectText(page, '[data-testid="device-username"]', 'dora');
    await assertHttpOnlySession(page);
    await assertNoTokenVisible(page);
    await screenshot(page, 'device-code');
    assert.ok(poll.answers.length >= 1 && poll.answers.every((a) => a === 'authorization_pending'), `the device is still waiting: ${poll.answers}`);

    await page.click('[data-testid="device-continue"]');
    await page.waitForURL(/\/oauth\/consent\?request=/);
    await expectText(page, '[data-testid="consent-title"]', 'Living Room TV wants to use your Portcullis account');
    await expectText(page, '[data-testid="consent-device-warning"]', DEVICE_WARNING);
    await expectText(page, '[data-testid="consent-username"]', 'dora');
    assert.deepEqual(
      await page.locator('[data-testid="consent-scope"]').evaluateAll((items) => items.map((i) => i.dataset.scope)),
      ['openid', 'profile', 'offline_access'],
    );
    await screenshot(page, 'device-consent');
    assert.ok(poll.answers.every((a) => a === 'authorization_pending'), `nothing is allowed before the click: ${poll.answers}`);

    await page.click('[data-testid="consent-allow"]');
    await page.waitForURL(/\/device\?result=approved$/);
    await expectText(page, '[data-testid="device-approved"]', DEVICE_APPROVED);
    await screenshot(page, 'device-approved');
    await assertNoTokenVisible(page);

    const { answers, status, body } = await poll.done;
    assert.equal(status, 200, `the device's last poll: ${JSON.stringify(body)}`);
    assert.equal(answers.at(-1), 'tokens');
    assert.ok(answers.slice(0, -1).every((a) => a === 'authorization_pending'), `the polls: ${answers}`);
    assert.equal(body.token_type, 'Bearer');
    assert.ok(body.access_token && body.id_token && body.refresh_token, 'access, ID and refresh tokens');
    assert.deepEqual(body.scope.split(' ').sort(), ['offline_access', 'openid', 'profile']);
    const claims = claimsOf(body.id_token);
    assert.equal(claims.iss, server.url);
    assert.equal(claims.aud, clientId);
    assert.equal(claims.preferred_username, 'dora');
    const info = await fetch(api(server, '/api/oauth/userinfo'), { headers: { authorization: `Bearer ${body.access_token}` } });
    assert.equal(info.status, 200);
    assert.equal((await info.json()).sub, claims.sub);

    // Answered: the same code typed again is not valid any more.
    await page.goto(device.verification_uri_complete);
    await page.locator('#device-user-code').waitFor();
    await page.click('[data-testid="device-continue"]');
    await expectText(page, '[data-testid="device-error"]', DEVICE_CODE_INVALID);
  });

  test('Deny: the page says so, and the device\'s poll gets access_denied', async () => {
    assert.ok(page, 'dora signed in in the test before');
    const device = await startDevice(server, clientId);
    const poll = pollUntilAnswered(server, clientId, device);

    // Signed in already: straight to the form, the code filled in.
    await page.goto(device.verification_uri_complete);
    const input = page.locator('#device-user-code');
    await input.waitFor();
    assert.equal(await input.inputValue(), device.user_code);
    assert.match(page.url(), /\/device\?user_code=/, 'no detour through the login page');
    await page.click('[data-testid="device-continue"]');
    await page.waitForURL(/\/oauth\/consent\?request=/);
    await expectText(page, '[data-testid="consent-device-warning"]', DEVICE_WARNING);
    // Allowed once before, a device still asks every time.
    await page.locator('[data-testid="consent-deny"]').waitFor();

    await page.click('[data-testid="consent-deny"]');
    await page.waitForURL(/\/device\?result=denied$/);
    await expectText(page, '[data-testid="device-denied"]', DEVICE_DENIED);

    const { answers, status, body } = await poll.done;
    assert.equal(status, 400, JSON.stringify(body));
    assert.equal(body.error, 'access_denied');
    assert.equal(body.access_token, undefined);
    assert.deepEqual(answers.slice(0, -1).filter((a) => a !== 'authorization_pending'), [], `the polls: ${answers}`);
    await assertNoTokenVisible(page);
  });

  test('a wrong code: the page says it is not valid, and stays', async () => {
    assert.ok(page, 'dora signed in in the first test');
    await page.goto(`${server.url}/device`);
    const input = page.locator('#device-user-code');
    await input.waitFor();
    assert.equal(await input.inputValue(), '');
    await input.fill('bcdf-ghjk');
    await page.click('[data-testid="device-continue"]');
    await expectText(page, '[data-testid="device-error"]', DEVICE_CODE_INVALID);
    assert.equal(new URL(page.url()).pathname, '/device');
    assert.equal(await input.getAttribute('aria-invalid'), 'true');
    await screenshot(page, 'device-invalid-code');
    await assertNoTokenVisible(page);
  });
});
