import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';

import { BRANDED_CLASS, BrandingService, brandingFrom } from './branding.service';
import { brandPalette, contrast, parseHex, textOn } from './colour';
import { pageTitle } from './page-title';

describe('BrandingService', () => {
  let service: BrandingService;
  let http: HttpTestingController;

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideHttpClient(), provideHttpClientTesting()] });
    service = TestBed.inject(BrandingService);
    http = TestBed.inject(HttpTestingController);
  });

  afterEach(() => {
    http.verify();
    service.apply(null);
  });

  it('loads the branding once at start-up and shows it', async () => {
    const loaded = service.load();
    http.expectOne({ method: 'GET', url: '/api/branding' }).flush({
      productName: 'Acme ID',
      primaryColor: '#7a1fa2',
      logoUrl: '/api/branding/logo?v=3',
      footerLink: { text: 'Privacy', url: 'https://example.com/privacy' },
    });
    await loaded;
    expect(service.productName()).toBe('Acme ID');
    expect(service.logoUrl()).toBe('/api/branding/logo?v=3');
    expect(service.footerLink()).toEqual({ text: 'Privacy', url: 'https://example.com/privacy' });
    const root = document.documentElement;
    expect(root.classList.contains(BRANDED_CLASS)).toBe(true);
    expect(root.style.getPropertyValue('--bs-primary')).toBe('#7a1fa2');
    expect(root.style.getPropertyValue('--bs-primary-rgb')).toBe('122, 31, 162');
    expect(root.style.getPropertyValue('--brand-on-primary')).toBe('#ffffff');
  });

  it('keeps the defaults when the server has no branding (404) or fails', async () => {
    const loaded = service.load();
    http.expectOne('/api/branding').flush({ message: 'Not Found' }, { status: 404, statusText: 'Not Found' });
    await loaded;
    expect(service.productName()).toBe('Portcullis');
    expect(service.logoUrl()).toBeNull();
    expect(service.footerLink()).toBeNull();
    expect(document.documentElement.classList.contains(BRANDED_CLASS)).toBe(false);
    expect(document.documentElement.style.getPropertyValue('--bs-primary')).toBe('');

    const again = service.load();
    http.expectOne('/api/branding').error(new ProgressEvent('error'));
    await expect(again).resolves.toBeUndefined();
    expect(service.productName()).toBe('Portcullis');
  });

  it('going back to no colour removes the variables it set', async () => {
    service.apply({ productName: 'Acme ID', primaryColor: '#ffd700' });
    expect(document.documentElement.style.getPropertyValue('--brand-on-primary')).toBe('#000000');
    service.apply({ productName: 'Acme ID', primaryColor: null });
    expect(document.documentElement.style.getPropertyValue('--brand-on-primary')).toBe('');
    expect(document.documentElement.classList.contains(BRANDED_CLASS)).toBe(false);
  });
});

describe('brandingFrom', () => {
  it('refuses what the page could not show safely, field by field', () => {
    expect(
      brandingFrom({
        productName: '   ',
        primaryColor: 'red; background: url(x)',
        logoUrl: 'https://evil.example/logo.png',
        footerLink: { text: 'Click', url: 'javascript:alert(1)' },
      }),
    ).toEqual({ productName: 'Portcullis', primaryColor: null, logoUrl: null, footerLink: null });
    expect(brandingFrom({ logoUrl: '//evil.example/logo.png' }).logoUrl).toBeNull();
    expect(brandingFrom({ logoUrl: 'data:image/png;base64,AAAA' }).logoUrl).toBe('data:image/png;base64,AAAA');
    expect(brandingFrom('not an object').productName).toBe('Portcullis');
  });
});

describe('colours', () => {
  it('text on the primary colour is white or black, whichever reads better', () => {
    expect(textOn('#0d6efd')).toBe('#ffffff');
    expect(textOn('#7a1fa2')).toBe('#ffffff');
    expect(textOn('#ffd700')).toBe('#000000');
    expect(textOn('#f8f9fa')).toBe('#000000');
  });

  it('links use a shade of a light colour dark enough to read on white (4.5:1)', () => {
    const palette = brandPalette('#ffd700')!;
    expect(contrast(parseHex(palette.text)!, [255, 255, 255])).toBeGreaterThanOrEqual(4.5);
    expect(brandPalette('#7a1fa2')!.text).toBe('#7a1fa2');
    expect(brandPalette('nope')).toBeNull();
  });
});

describe('pageTitle', () => {
  it('is the page, then the product; the product alone for a page without a title', () => {
    expect(pageTitle('Sign in', 'Acme ID')).toBe('Sign in · Acme ID');
    expect(pageTitle(undefined, 'Acme ID')).toBe('Acme ID');
  });
});
