import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';

import { setUpHttp } from '../../testing/http-testing';
import { AdminService } from '../core/admin.service';
import { Branding } from './branding-api';
import { BrandingPage } from './branding-page';
import { said } from './notices.testing';

async function settle(fixture: ComponentFixture<unknown>) {
  for (let i = 0; i < 3; i++) {
    await new Promise((done) => setTimeout(done));
    await fixture.whenStable();
  }
}

const el = (fixture: ComponentFixture<unknown>, selector: string) => fixture.nativeElement.querySelector(selector) as HTMLElement | null;
const text = (fixture: ComponentFixture<unknown>, testId: string) =>
  el(fixture, `[data-testid="${testId}"]`)?.textContent?.trim().replace(/\s+/g, ' ');

async function type(fixture: ComponentFixture<unknown>, selector: string, value: string) {
  const input = el(fixture, selector) as HTMLInputElement;
  expect(input).not.toBeNull();
  input.value = value;
  input.dispatchEvent(new Event('input'));
  await settle(fixture);
}

async function click(fixture: ComponentFixture<unknown>, selector: string) {
  const target = el(fixture, selector);
  expect(target).not.toBeNull();
  target!.click();
  await settle(fixture);
}

async function choose(fixture: ComponentFixture<unknown>, file: File) {
  const input = el(fixture, '#branding-logo') as HTMLInputElement;
  Object.defineProperty(input, 'files', { value: [file], configurable: true });
  input.dispatchEvent(new Event('change'));
  await settle(fixture);
  // FileReader is asynchronous.
  for (let i = 0; i < 10 && !el(fixture, 'img[data-testid="branding-logo-preview"][src^="data:"]') && !text(fixture, 'branding-logo-error'); i++) {
    await settle(fixture);
  }
}

const submit = (fixture: ComponentFixture<unknown>) =>
  (el(fixture, '[data-testid="branding-form"]') as HTMLFormElement).dispatchEvent(new Event('submit'));

const PLAIN: Branding = { productName: 'Portcullis', primaryColor: null, logoUrl: null, footerLink: null };
const ACME: Branding = {
  productName: 'Acme ID',
  primaryColor: '#aa3300',
  logoUrl: '/api/branding/logo?v=3',
  footerLink: { text: 'Terms', url: 'https://acme.example/terms' },
};
const PNG = () => new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], 'logo.png', { type: 'image/png' });

describe('BrandingPage', () => {
  let http: HttpTestingController;

  beforeEach(() => {
    ({ http } = setUpHttp());
  });

  afterEach(() => http.verify());

  async function render(branding: Branding) {
    const fixture = TestBed.createComponent(BrandingPage);
    await settle(fixture);
    http.expectOne('/api/branding').flush(branding);
    await settle(fixture);
    return fixture;
  }

  it('fills the form and the preview with the branding as the server has it', async () => {
    const fixture = await render(ACME);
    expect((el(fixture, '#branding-name') as HTMLInputElement).value).toBe('Acme ID');
    expect((el(fixture, '#branding-color') as HTMLInputElement).value).toBe('#aa3300');
    expect((el(fixture, '#branding-no-color') as HTMLInputElement).checked).toBe(false);
    expect((el(fixture, '#branding-footer-text') as HTMLInputElement).value).toBe('Terms');
    expect(el(fixture, '[data-testid="branding-logo-preview"]')?.getAttribute('src')).toBe('/api/branding/logo?v=3');
    expect(text(fixture, 'branding-preview-name')).toBe('Sign in to Acme ID');
    expect(text(fixture, 'branding-preview-footer')).toBe('Terms');

    // The preview follows what is typed.
    await type(fixture, '#branding-name', 'Acme Accounts');
    expect(text(fixture, 'branding-preview-name')).toBe('Sign in to Acme Accounts');
  });

  it('saves the settings with PUT and confirms, and the audit log hears of it', async () => {
    const fixture = await render(PLAIN);
    const changes = TestBed.inject(AdminService).changes();
    await type(fixture, '#branding-name', '  Acme ID ');
    await click(fixture, '#branding-no-color');
    await type(fixture, '#branding-color', '#AA3300');
    await type(fixture, '#branding-footer-text', 'Terms');
    await type(fixture, '#branding-footer-url', 'https://acme.example/terms');
    submit(fixture);
    const put = http.expectOne('/api/admin/branding');
    expect(put.request.method).toBe('PUT');
    expect(put.request.body).toEqual({
      productName: 'Acme ID',
      primaryColor: '#aa3300',
      footerLink: { text: 'Terms', url: 'https://acme.example/terms' },
    });
    put.flush({ ...ACME, logoUrl: null });
    await settle(fixture);
    expect(said('branding-notice')).toBe('Branding saved: Acme ID.');
    expect(TestBed.inject(AdminService).changes()).toBe(changes + 1);
  });

  it('checks what the server checks before sending anything', async () => {
    const fixture = await render(PLAIN);
    await type(fixture, '#branding-name', '   ');
    await type(fixture, '#branding-footer-text', 'Terms');
    await click(fixture, '#branding-no-color');
    await type(fixture, '#branding-color', 'red');
    submit(fixture);
    await settle(fixture);
    http.expectNone('/api/admin/branding');
    expect(el(fixture, '#branding-name')?.classList).toContain('is-invalid');
    expect(text(fixture, 'branding-footer-error')).toBe('Give both the link\'s text and its URL, or neither.');
    expect(text(fixture, 'branding-color-error')).toBe('A colour as #rrggbb, such as #0d6efd.');

    await type(fixture, '#branding-name', 'x'.repeat(61));
    await type(fixture, '#branding-footer-url', 'javascript:alert(1)');
    submit(fixture);
    await settle(fixture);
    http.expectNone('/api/admin/branding');
    expect(el(fixture, '#branding-name')?.classList).toContain('is-invalid');
    expect(el(fixture, '#branding-footer-url')?.classList).toContain('is-invalid');
  });

  it('shows the server refusing the settings', async () => {
    const fixture = await render(PLAIN);
    submit(fixture);
    http
      .expectOne('/api/admin/branding')
      .flush({ message: 'productName must be 1 to 60 characters.', code: 'validation_failed' }, { status: 400, statusText: 'Bad Request' });
    await settle(fixture);
    expect(text(fixture, 'branding-error')).toBe('productName must be 1 to 60 characters.');
    expect(said('branding-notice')).toBeUndefined();
  });

  it('refuses a logo of another type or over 64 KiB without sending it', async () => {
    const fixture = await render(PLAIN);
    await choose(fixture, new File(['GIF89a'], 'logo.gif', { type: 'image/gif' }));
    expect(text(fixture, 'branding-logo-error')).toBe('The logo must be a PNG, JPEG, WebP or SVG image.');
    await choose(fixture, new File([new Uint8Array(64 * 1024 + 1)], 'big.png', { type: 'image/png' }));
    expect(text(fixture, 'branding-logo-error')).toBe('The logo must be at most 64 KiB.');
    expect(el(fixture, '[data-testid="branding-logo-preview"]')).toBeNull();
  });

  it('previews a chosen logo and sends its bytes with its type after the settings', async () => {
    const fixture = await render(PLAIN);
    const file = PNG();
    await choose(fixture, file);
    expect(el(fixture, '[data-testid="branding-logo-preview"]')?.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    submit(fixture);
    http.expectOne('/api/admin/branding').flush(PLAIN);
    await settle(fixture);
    const logo = http.expectOne('/api/admin/branding/logo');
    expect(logo.request.method).toBe('PUT');
    expect(logo.request.body).toBe(file);
    expect(logo.request.headers.get('Content-Type')).toBe('image/png');
    logo.flush({ ...PLAIN, logoUrl: '/api/branding/logo?v=1' });
    await settle(fixture);
    expect(el(fixture, '[data-testid="branding-logo-preview"]')?.getAttribute('src')).toBe('/api/branding/logo?v=1');
    expect(said('branding-notice')).toBe('Branding saved: Portcullis, with the new logo.');
  });

  it('says so when the settings are saved but the logo is refused', async () => {
    const fixture = await render(PLAIN);
    await choose(fixture, PNG());
    submit(fixture);
    http.expectOne('/api/admin/branding').flush(PLAIN);
    await settle(fixture);
    http
      .expectOne('/api/admin/branding/logo')
      .flush({ message: 'The logo must be at most 64 KiB.', code: 'payload_too_large' }, { status: 413, statusText: 'Payload Too Large' });
    await settle(fixture);
    expect(text(fixture, 'branding-error')).toBe('The settings are saved, but not the logo: The logo must be at most 64 KiB.');
  });

  it('removes the logo with DELETE at Save, and can keep it after all', async () => {
    const fixture = await render(ACME);
    await click(fixture, '[data-testid="branding-remove-logo"]');
    expect(text(fixture, 'branding-no-logo')).toBe('No logo (removed at Save).');
    await click(fixture, '[data-testid="branding-keep-logo"]');
    expect(el(fixture, '[data-testid="branding-logo-preview"]')).not.toBeNull();
    await click(fixture, '[data-testid="branding-remove-logo"]');
    submit(fixture);
    http.expectOne('/api/admin/branding').flush(ACME);
    await settle(fixture);
    const remove = http.expectOne('/api/admin/branding/logo');
    expect(remove.request.method).toBe('DELETE');
    remove.flush({ ...ACME, logoUrl: null });
    await settle(fixture);
    expect(text(fixture, 'branding-no-logo')).toBe('No logo.');
    expect(said('branding-notice')).toBe('Branding saved: Acme ID, without a logo.');
  });
});
