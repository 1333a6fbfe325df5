import { HttpTestingController } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { Router } from '@angular/router';

import { Policy } from '../core/api.models';
import { policyWith, setUpHttp } from '../../testing/http-testing';
import { Register } from './register';

/** The form's rules come from the server's policy: a stricter policy gives a stricter form. */
describe('Register', () => {
  let http: HttpTestingController;
  let router: Router;

  beforeEach(() => {
    ({ http, router } = setUpHttp());
  });

  afterEach(() => http.verify());

  /** Renders with the server's default policy, its rules replaced by `rules`. */
  async function render(rules: Partial<Policy>, returnUrl?: string) {
    const fixture = TestBed.createComponent(Register);
    if (returnUrl !== undefined) fixture.componentRef.setInput('returnUrl', returnUrl);
    http.expectOne('/api/auth/policy').flush({ ...policyWith(), ...rules });
    await fixture.whenStable();
    return fixture;
  }

  async function type(fixture: Awaited<ReturnType<typeof render>>, id: string, value: string) {
    const input = fixture.nativeElement.querySelector(`#${id}`) as HTMLInputElement;
    input.value = value;
    input.dispatchEvent(new Event('input'));
    await fixture.whenStable();
  }

  const text = (fixture: Awaited<ReturnType<typeof render>>, testId: string) =>
    (fixture.nativeElement.querySelector(`[data-testid="${testId}"]`) as HTMLElement).textContent?.trim();

  it('shows per-field errors as the user types, with the limits the server sent', async () => {
    const fixture = await render({
      username: { minLength: 5, maxLength: 9, pattern: '^[a-z]+$' },
      email: { maxLength: 254 },
      password: { minLength: 12, maxLength: 64 },
    });
    await type(fixture, 'reg-username', 'abcd');
    expect(text(fixture, 'username-error')).toBe('Username must be 5 to 9 characters.');
    expect(fixture.nativeElement.querySelector('#reg-username').classList).toContain('is-invalid');
    await type(fixture, 'reg-username', 'ABCDE');
    expect(text(fixture, 'username-error')).toMatch(/may only use/);
    await type(fixture, 'reg-username', 'abcde');
    expect(fixture.nativeElement.querySelector('#reg-username').classList).not.toContain('is-invalid');

    await type(fixture, 'reg-password', 'elevenchars');
    expect(text(fixture, 'password-error')).toBe('Password must be at least 12 characters.');
    await type(fixture, 'reg-email', 'nope');
    expect(text(fixture, 'email-error')).toBe('Email must be a valid email address.');
  });

  it('shows the server message when sign-up is refused', async () => {
    const fixture = await render({
      username: { minLength: 3, maxLength: 20, pattern: '^[A-Za-z0-9._-]{3,20}$' },
      email: { maxLength: 254 },
      password: { minLength: 8, maxLength: 128 },
    });
    await type(fixture, 'reg-username', 'alice');
    await type(fixture, 'reg-email', 'alice@example.com');
    await type(fixture, 'reg-password', 'a long enough password');
    (fixture.nativeElement.querySelector('form') as HTMLFormElement).dispatchEvent(new Event('submit'));
    http
      .expectOne('/api/auth/signup')
      .flush({ message: 'Failed! Email is already in use!', code: 'email_taken' }, { status: 409, statusText: 'Conflict' });
    await fixture.whenStable();
    expect(text(fixture, 'error')).toBe('Failed! Email is already in use!');
  });

  const RULES: Partial<Policy> = {
    username: { minLength: 3, maxLength: 20, pattern: '^[A-Za-z0-9._-]{3,20}$' },
    email: { maxLength: 254 },
    password: { minLength: 8, maxLength: 128 },
  };

  async function signUp(fixture: Awaited<ReturnType<typeof render>>) {
    await type(fixture, 'reg-username', 'alice');
    await type(fixture, 'reg-email', 'alice@example.com');
    await type(fixture, 'reg-password', 'a long enough password');
    (fixture.nativeElement.querySelector('form') as HTMLFormElement).dispatchEvent(new Event('submit'));
    const post = http.expectOne('/api/auth/signup');
    expect(post.request.body).toEqual({ username: 'alice', email: 'alice@example.com', password: 'a long enough password' });
    post.flush({ message: 'User registered successfully!', code: 'created' }, { status: 201, statusText: 'Created' });
    await fixture.whenStable();
  }

  it('once signed up, goes to the login page with the username to fill in (no session is made)', async () => {
    const fixture = await render(RULES);
    await signUp(fixture);
    expect(router.navigate).toHaveBeenCalledExactlyOnceWith(['/login'], {
      queryParams: { reason: 'registered' },
      state: { username: 'alice' },
    });
  });

  it("keeps the way back it was given (an application's consent page)", async () => {
    const back = '/oauth/consent?request=req_abc&fresh=1';
    const fixture = await render(RULES, back);
    await signUp(fixture);
    expect(router.navigate).toHaveBeenCalledExactlyOnceWith(['/login'], {
      queryParams: { reason: 'registered', returnUrl: back },
      state: { username: 'alice' },
    });
  });

  it('never hands on a way back to another site', async () => {
    const fixture = await render(RULES, '//evil.example/');
    await signUp(fixture);
    expect(router.navigate).toHaveBeenCalledExactlyOnceWith(['/login'], {
      queryParams: { reason: 'registered' },
      state: { username: 'alice' },
    });
  });

  it('names the product in its heading', async () => {
    const fixture = await render(RULES);
    expect(text(fixture, 'register-heading')).toBe('Sign up for Portcullis');
  });
});
