import { TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';

import { OAuthClient } from '../core/oauth-api';
import { setUpHttp } from '../../testing/http-testing';
import { ClientLogo } from './client-logo';

const CLIENT = {
  clientId: 'c_notes',
  name: 'Acme Notes',
  logoUrl: null,
} as unknown as OAuthClient;

describe('ClientLogo', () => {
  let http: HttpTestingController;

  beforeEach(() => {
    ({ http } = setUpHttp());
  });

  afterEach(() => http.verify());

  async function render(client: OAuthClient = CLIENT) {
    const fixture = TestBed.createComponent(ClientLogo);
    fixture.componentRef.setInput('client', client);
    const changed: OAuthClient[] = [];
    fixture.componentInstance.changed.subscribe((c) => changed.push(c));
    await fixture.whenStable();
    return { fixture, changed };
  }

  function choose(fixture: { nativeElement: HTMLElement }, file: File): void {
    const input = fixture.nativeElement.querySelector('[data-testid="client-logo-file"]') as HTMLInputElement;
    Object.defineProperty(input, 'files', { value: [file], configurable: true });
    input.dispatchEvent(new Event('change'));
  }

  it('uploads a chosen file as its own type and reports the client as it now is', async () => {
    const { fixture, changed } = await render();
    expect(fixture.nativeElement.querySelector('[data-testid="client-logo-none"]')).not.toBeNull();
    const file = new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], 'logo.png', { type: 'image/png' });
    choose(fixture, file);
    const put = http.expectOne('/api/admin/clients/c_notes/logo');
    expect(put.request.method).toBe('PUT');
    expect(put.request.headers.get('Content-Type')).toBe('image/png');
    expect(put.request.body).toBe(file);
    const updated = { ...CLIENT, logoUrl: '/api/branding/clients/c_notes/logo?v=1' };
    put.flush(updated);
    await fixture.whenStable();
    expect(changed).toEqual([updated]);
  });

  it('refuses another type or a file over 64 KiB without sending it', async () => {
    const { fixture } = await render();
    choose(fixture, new File(['<html>'], 'page.html', { type: 'text/html' }));
    await fixture.whenStable();
    expect((fixture.nativeElement.querySelector('[data-testid="client-logo-error"]') as HTMLElement).textContent?.trim()).toBe(
      'The logo must be a PNG, JPEG, WebP or SVG image.',
    );
    choose(fixture, new File([new Uint8Array(64 * 1024 + 1)], 'big.png', { type: 'image/png' }));
    await fixture.whenStable();
    expect((fixture.nativeElement.querySelector('[data-testid="client-logo-error"]') as HTMLElement).textContent?.trim()).toBe(
      'The logo must be at most 64 KiB.',
    );
    http.expectNone('/api/admin/clients/c_notes/logo');
  });

  it('removes the logo, and shows the server refusal when there is one', async () => {
    const withLogo = { ...CLIENT, logoUrl: '/api/branding/clients/c_notes/logo?v=1' } as OAuthClient;
    const { fixture, changed } = await render(withLogo);
    expect(fixture.nativeElement.querySelector('[data-testid="client-logo-current"]')?.getAttribute('src')).toBe(withLogo.logoUrl);
    (fixture.nativeElement.querySelector('[data-testid="client-logo-remove"]') as HTMLButtonElement).click();
    const del = http.expectOne('/api/admin/clients/c_notes/logo');
    expect(del.request.method).toBe('DELETE');
    del.flush({ message: 'Not found.', code: 'not_found' }, { status: 404, statusText: 'Not Found' });
    await fixture.whenStable();
    expect(changed).toEqual([]);
    expect((fixture.nativeElement.querySelector('[data-testid="client-logo-error"]') as HTMLElement).textContent?.trim()).toBe('Not found.');
  });
});
