import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';

import { policyWith, setUpHttp } from '../../testing/http-testing';
import { PasskeysCard } from './passkeys-card';

async function settle(fixture: ComponentFixture<unknown>) {
  for (let i = 0; i < 3; i++) {
    await new Promise((done) => setTimeout(done));
    await fixture.whenStable();
  }
}

const el = (fixture: ComponentFixture<unknown>, selector: string) =>
  fixture.nativeElement.querySelector(selector) as HTMLElement | null;
const texts = (fixture: ComponentFixture<unknown>, testId: string) =>
  Array.from(fixture.nativeElement.querySelectorAll(`[data-testid="${testId}"]`) as NodeListOf<HTMLElement>).map((e) =>
    e.textContent?.trim(),
  );

const FORBIDDEN = { status: 403, statusText: 'Forbidden' };
const REAUTH = { message: 'Sign in again, or give your password, to do this.', code: 'reauthentication_required' };
const WRONG = { message: 'Current password is incorrect.', code: 'wrong_password' };
const LAPTOP = { id: 3, name: 'Laptop', createdAt: '2026-01-02T03:04:05Z', lastUsedAt: null };

describe('PasskeysCard', () => {
  let http: HttpTestingController;
  let create: ReturnType<typeof vi.fn>;

  beforeEach(() => {
    ({ http } = setUpHttp());
    class FakePublicKeyCredential {
      static parseRequestOptionsFromJSON = vi.fn((options: unknown) => ({ parsed: options }));
      static parseCreationOptionsFromJSON = vi.fn((options: unknown) => ({ parsed: options }));
    }
    vi.stubGlobal('PublicKeyCredential', FakePublicKeyCredential);
    create = vi.fn(async () => ({ toJSON: () => ({ id: 'new-cred', type: 'public-key' }) }));
    Object.defineProperty(navigator, 'credentials', { value: { get: vi.fn(), create }, configurable: true });
  });

  afterEach(() => {
    http.verify();
    vi.unstubAllGlobals();
    Reflect.deleteProperty(navigator, 'credentials');
  });

  /** The card with the account's passkey LAPTOP, under a policy whose `passkeys` is `passkeys`. */
  async function render(passkeys = true) {
    const fixture = TestBed.createComponent(PasskeysCard);
    http.expectOne('/api/auth/passkeys').flush({ items: [LAPTOP] });
    http.expectOne('/api/auth/policy').flush(policyWith({}, undefined, passkeys));
    await settle(fixture);
    return fixture;
  }

  it('where the policy says passkeys are off: a note, no adding, the passkeys still listed and renamed', async () => {
    const fixture = await render(false);
    expect(texts(fixture, 'passkeys-off')).toEqual(['Passkeys are not enabled on this server.']);
    expect(el(fixture, '[data-testid="add-passkey"]')).toBeNull();
    expect(el(fixture, '#passkey-name')).toBeNull();
    expect(fixture.nativeElement.textContent).not.toContain('Add a passkey');
    expect(el(fixture, '[data-testid="passkeys-unsupported"]')).toBeNull();
    expect(texts(fixture, 'passkey-name')).toEqual(['Laptop']);

    (el(fixture, '[data-testid="passkey-rename"]') as HTMLButtonElement).click();
    await settle(fixture);
    const input = el(fixture, '#passkey-rename-3') as HTMLInputElement;
    input.value = 'Old laptop';
    input.dispatchEvent(new Event('input'));
    (input.form as HTMLFormElement).dispatchEvent(new Event('submit'));
    http.expectOne('/api/auth/passkeys/3').flush({ ...LAPTOP, name: 'Old laptop' });
    await settle(fixture);
    expect(texts(fixture, 'passkey-name')).toEqual(['Old laptop']);
    expect(el(fixture, '[data-testid="passkey-remove"]')).not.toBeNull();
    http.expectNone('/api/auth/passkeys/register/start');
  });

  it('offers adding only once the policy says passkeys are on', async () => {
    const fixture = TestBed.createComponent(PasskeysCard);
    http.expectOne('/api/auth/passkeys').flush({ items: [] });
    await settle(fixture);
    expect(el(fixture, '[data-testid="add-passkey"]')).toBeNull();
    expect(el(fixture, '[data-testid="passkeys-off"]')).toBeNull();
    http.expectOne('/api/auth/policy').flush(policyWith());
    await settle(fixture);
    expect(texts(fixture, 'add-passkey')).toEqual(['Add a passkey']);
    expect(el(fixture, '[data-testid="passkeys-off"]')).toBeNull();
  });

  it('lists the passkeys and adds one: register/start, the browser, register/finish with {credential, name}', async () => {
    const fixture = await render();
    expect(texts(fixture, 'passkey-name')).toEqual(['Laptop']);
    expect(fixture.nativeElement.textContent).toContain('never used yet');
    expect((el(fixture, '#passkey-name') as HTMLInputElement).value).toBe('Passkey');

    (el(fixture, '[data-testid="add-passkey"]') as HTMLButtonElement).click();
    const start = http.expectOne('/api/auth/passkeys/register/start');
    expect(start.request.method).toBe('POST');
    expect(start.request.body).toBeNull();
    start.flush({ publicKey: { challenge: 'c', rp: { id: 'localhost', name: 'Portcullis' }, authenticatorSelection: { authenticatorAttachment: null, residentKey: 'required' } } });
    await settle(fixture);
    expect(create).toHaveBeenCalledWith({
      publicKey: { parsed: { challenge: 'c', rp: { id: 'localhost', name: 'Portcullis' }, authenticatorSelection: { residentKey: 'required' } } },
    });
    const finish = http.expectOne('/api/auth/passkeys/register/finish');
    expect(finish.request.body).toEqual({ credential: { id: 'new-cred', type: 'public-key' }, name: 'Passkey' });
    finish.flush({ id: 4, name: 'Passkey', createdAt: '2026-01-03T00:00:00Z', lastUsedAt: null }, { status: 201, statusText: 'Created' });
    await settle(fixture);
    expect(texts(fixture, 'passkey-name')).toEqual(['Laptop', 'Passkey']);
  });

  it('adding on reauthentication_required asks for the password, starts again with {password}, then the browser and finish', async () => {
    const fixture = await render();
    const input = el(fixture, '#passkey-name') as HTMLInputElement;
    input.value = 'Phone';
    input.dispatchEvent(new Event('input'));
    (el(fixture, '[data-testid="add-passkey"]') as HTMLButtonElement).click();
    const first = http.expectOne('/api/auth/passkeys/register/start');
    expect(first.request.method).toBe('POST');
    expect(first.request.body).toBeNull();
    first.flush(REAUTH, FORBIDDEN);
    await settle(fixture);
    expect(el(fixture, '[data-testid="reauth"]')?.textContent).toContain('Add the passkey “Phone”');
    expect(texts(fixture, 'passkeys-error')).toEqual([]);
    expect(create).not.toHaveBeenCalled();
    expect((el(fixture, '[data-testid="add-passkey"]') as HTMLButtonElement).disabled).toBe(false);

    const password = el(fixture, '#passkey-reauth-password') as HTMLInputElement;
    password.value = 'not my password';
    password.dispatchEvent(new Event('input'));
    (el(fixture, '[data-testid="reauth-confirm"]') as HTMLButtonElement).click();
    const wrong = http.expectOne('/api/auth/passkeys/register/start');
    expect(wrong.request.body).toEqual({ password: 'not my password' });
    wrong.flush(WRONG, FORBIDDEN);
    await settle(fixture);
    expect(texts(fixture, 'reauth-error')).toEqual(['Current password is incorrect.']);
    expect(create).not.toHaveBeenCalled();

    password.value = 'the right one';
    password.dispatchEvent(new Event('input'));
    (el(fixture, '[data-testid="reauth-confirm"]') as HTMLButtonElement).click();
    const again = http.expectOne('/api/auth/passkeys/register/start');
    expect(again.request.method).toBe('POST');
    expect(again.request.body).toEqual({ password: 'the right one' });
    again.flush({ publicKey: { challenge: 'c2' } });
    await settle(fixture);
    expect(el(fixture, '[data-testid="reauth"]')).toBeNull();
    expect(create).toHaveBeenCalledExactlyOnceWith({ publicKey: { parsed: { challenge: 'c2' } } });
    const finish = http.expectOne('/api/auth/passkeys/register/finish');
    expect(finish.request.body).toEqual({ credential: { id: 'new-cred', type: 'public-key' }, name: 'Phone' });
    finish.flush({ id: 4, name: 'Phone', createdAt: '2026-01-03T00:00:00Z', lastUsedAt: null }, { status: 201, statusText: 'Created' });
    await settle(fixture);
    expect(texts(fixture, 'passkey-name')).toEqual(['Laptop', 'Phone']);
    expect(texts(fixture, 'passkeys-notice')).toEqual(['Passkey “Phone” added.']);
  });

  it('the password prompt can be cancelled: nothing is created, adding is offered again', async () => {
    const fixture = await render();
    (el(fixture, '[data-testid="add-passkey"]') as HTMLButtonElement).click();
    http.expectOne('/api/auth/passkeys/register/start').flush(REAUTH, FORBIDDEN);
    await settle(fixture);
    const cancel = Array.from(el(fixture, '[data-testid="reauth"]')!.querySelectorAll('button')).find(
      (b) => b.textContent?.trim() === 'Cancel',
    ) as HTMLButtonElement;
    cancel.click();
    await settle(fixture);
    expect(el(fixture, '[data-testid="reauth"]')).toBeNull();
    expect(create).not.toHaveBeenCalled();
    http.expectNone('/api/auth/passkeys/register/finish');
    expect((el(fixture, '[data-testid="add-passkey"]') as HTMLButtonElement).disabled).toBe(false);
  });

  it('renames with PATCH {name}', async () => {
    const fixture = await render();
    (el(fixture, '[data-testid="passkey-rename"]') as HTMLButtonElement).click();
    await settle(fixture);
    const input = el(fixture, '#passkey-rename-3') as HTMLInputElement;
    input.value = 'Work laptop';
    input.dispatchEvent(new Event('input'));
    (input.form as HTMLFormElement).dispatchEvent(new Event('submit'));
    const patch = http.expectOne('/api/auth/passkeys/3');
    expect(patch.request.method).toBe('PATCH');
    expect(patch.request.body).toEqual({ name: 'Work laptop' });
    patch.flush({ ...LAPTOP, name: 'Work laptop' });
    await settle(fixture);
    expect(texts(fixture, 'passkey-name')).toEqual(['Work laptop']);
  });

  it('a cancelled creation says so and registers nothing', async () => {
    create.mockRejectedValueOnce(new DOMException('not allowed', 'NotAllowedError'));
    const fixture = await render();
    (el(fixture, '[data-testid="add-passkey"]') as HTMLButtonElement).click();
    http.expectOne('/api/auth/passkeys/register/start').flush({ publicKey: { challenge: 'c' } });
    await settle(fixture);
    http.expectNone('/api/auth/passkeys/register/finish');
    expect(texts(fixture, 'passkeys-error')[0]).toMatch(/^No passkey was used/);
  });

  it('removes after a confirmation, with DELETE', async () => {
    const fixture = await render();
    (el(fixture, '[data-testid="passkey-remove"]') as HTMLButtonElement).click();
    await settle(fixture);
    (el(fixture, '[data-testid="passkey-confirm-remove"]') as HTMLButtonElement).click();
    const del = http.expectOne('/api/auth/passkeys/3');
    expect(del.request.method).toBe('DELETE');
    del.flush({ message: 'Passkey removed.' });
    await settle(fixture);
    expect(texts(fixture, 'passkey-name')).toEqual([]);
    expect(texts(fixture, 'passkeys-notice')).toEqual(['Passkey removed.']);
  });

  it("the account's last way to sign in (409 last_signin_method): the server's words, and the passkey stays", async () => {
    const fixture = await render();
    (el(fixture, '[data-testid="passkey-remove"]') as HTMLButtonElement).click();
    await settle(fixture);
    (el(fixture, '[data-testid="passkey-confirm-remove"]') as HTMLButtonElement).click();
    const del = http.expectOne('/api/auth/passkeys/3');
    expect(del.request.method).toBe('DELETE');
    del.flush(
      {
        message: "This is the account's only way to sign in: set a password or add a passkey first.",
        code: 'last_signin_method',
      },
      { status: 409, statusText: 'Conflict' },
    );
    await settle(fixture);
    expect(texts(fixture, 'passkeys-error')).toEqual([
      "This is the account's only way to sign in: set a password or add a passkey first.",
    ]);
    expect(el(fixture, '[data-testid="passkeys-error"]')?.getAttribute('role')).toBe('alert');
    expect(texts(fixture, 'passkeys-notice')).toEqual([]);
    expect(texts(fixture, 'passkey-name')).toEqual(['Laptop']);
    expect(el(fixture, '[data-testid="reauth"]')).toBeNull();
    const remove = el(fixture, '[data-testid="passkey-remove"]') as HTMLButtonElement;
    expect(remove.disabled).toBe(false);
  });
});
