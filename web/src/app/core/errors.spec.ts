import { HttpErrorResponse, HttpHeaders } from '@angular/common/http';
import { clearTranslations, loadTranslations } from '@angular/localize';

import { codeMessage, describeWait, errorCode, errorMessage, retryAfterSeconds } from './errors';
import de from '../../i18n/de/core.json';

describe('errorMessage', () => {
  it('shows the server message verbatim', () => {
    const error = new HttpErrorResponse({
      status: 409,
      error: { message: 'Failed! Username is already in use!', code: 'username_taken' },
    });
    expect(errorMessage(error)).toBe('Failed! Username is already in use!');
  });

  it('reads the message from a text body (the boards are fetched as text)', () => {
    const error = new HttpErrorResponse({
      status: 403,
      error: '{"message":"Require Moderator Role!","code":"forbidden"}',
    });
    expect(errorMessage(error)).toBe('Require Moderator Role!');
  });

  it('says how long to wait when sign-in is throttled', () => {
    const error = new HttpErrorResponse({
      status: 429,
      headers: new HttpHeaders({ 'Retry-After': '840' }),
      error: { message: 'Too many failed sign-in attempts. Try again later.', code: 'too_many_attempts' },
    });
    expect(errorMessage(error)).toBe(
      'Too many failed sign-in attempts. Try again later. Please wait 14 minutes.',
    );
  });

  it('explains an unreachable server', () => {
    expect(errorMessage(new HttpErrorResponse({ status: 0 }))).toMatch(/Cannot reach the server/);
  });

  it('falls back to the status when the body has no message', () => {
    expect(errorMessage(new HttpErrorResponse({ status: 502, statusText: 'Bad Gateway', error: '<html>' }))).toBe(
      'The server answered 502 Bad Gateway.',
    );
  });
});

describe('errorCode', () => {
  it("reads the server's code, from an object or a text body", () => {
    expect(errorCode(new HttpErrorResponse({ status: 400, error: { message: 'x', code: 'invalid_token' } }))).toBe(
      'invalid_token',
    );
    expect(errorCode(new HttpErrorResponse({ status: 409, error: '{"message":"x","code":"already_verified"}' }))).toBe(
      'already_verified',
    );
  });

  it('is null without one', () => {
    expect(errorCode(new HttpErrorResponse({ status: 502, error: '<html>' }))).toBeNull();
    expect(errorCode(new HttpErrorResponse({ status: 0 }))).toBeNull();
    expect(errorCode(new Error('boom'))).toBeNull();
  });
});

describe('retryAfterSeconds', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterSeconds('30', now)).toBe(30);
    expect(retryAfterSeconds('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60);
    expect(retryAfterSeconds(null, now)).toBeNull();
    expect(retryAfterSeconds('soon', now)).toBeNull();
  });

  it('describes short and long waits', () => {
    expect(describeWait(1)).toBe('1 second');
    expect(describeWait(45)).toBe('45 seconds');
    expect(describeWait(60)).toBe('1 minute');
    expect(describeWait(61)).toBe('2 minutes');
  });
});

/** Another language: the server's English `message` gives way to the sentence for its `code`. */
describe('errorMessage in German', () => {
  beforeEach(() => {
    loadTranslations(de);
    document.documentElement.lang = 'de';
  });

  afterEach(() => {
    clearTranslations();
    document.documentElement.lang = '';
  });

  it("shows the German sentence for the code, not the server's English message", () => {
    const error = new HttpErrorResponse({
      status: 409,
      error: { message: 'Failed! Username is already in use!', code: 'username_taken' },
    });
    expect(errorMessage(error)).toBe(de['core.errors.code.usernameTaken']);
    expect(errorMessage(error)).toBe('Dieser Benutzername ist bereits vergeben. Wählen Sie einen anderen.');
  });

  it('says how long to wait in German too', () => {
    const error = new HttpErrorResponse({
      status: 429,
      headers: new HttpHeaders({ 'Retry-After': '840' }),
      error: { message: 'Too many failed sign-in attempts. Try again later.', code: 'too_many_attempts' },
    });
    expect(errorMessage(error)).toBe(`${de['core.errors.code.tooManyAttempts']} Bitte warten Sie 14 Minuten.`);
    expect(describeWait(1)).toBe('1 Sekunde');
  });

  it("keeps the server's message for a code this app does not know yet", () => {
    const error = new HttpErrorResponse({ status: 400, error: { message: 'Something new.', code: 'brand_new' } });
    expect(errorMessage(error)).toBe('Something new.');
  });

  it('has a sentence for every code it is given', () => {
    expect(codeMessage('internal')).toBe(de['core.errors.code.internal']);
    expect(errorMessage(new HttpErrorResponse({ status: 0 }))).toBe(de['core.errors.unreachable']);
  });
});
