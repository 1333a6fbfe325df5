import { TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';
import { Title } from '@angular/platform-browser';
import { ActivatedRouteSnapshot, Router, TitleStrategy, UrlTree } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';

import { routes } from '../app.routes';
import { BrandingService } from '../core/branding.service';
import { BrandedTitleStrategy } from '../core/page-title';
import { setUpHttp } from '../../testing/http-testing';

/** The app's routes: the old addresses lead to the new pages; an unknown one is a 404 page. */
describe('the app’s routes', () => {
  let http: HttpTestingController;
  let router: Router;

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [{ provide: TitleStrategy, useClass: BrandedTitleStrategy }] });
    ({ http, router } = setUpHttp());
    router.resetConfig(routes);
  });

  afterEach(() => {
    http.verify();
    TestBed.inject(BrandingService).apply(null);
  });

  /** Navigates to `url`; the URL the router ends at, and the page. */
  async function go(url: string) {
    const harness = await RouterTestingHarness.create();
    await harness.navigateByUrl(url);
    await harness.fixture.whenStable();
    return { url: router.url, harness };
  }

  it('/profile is now the account console; one with a failed link’s ?error= its Linked sign-ins page', () => {
    const redirect = routes.find((r) => r.path === 'profile')?.redirectTo as (
      route: Pick<ActivatedRouteSnapshot, 'queryParams'>,
    ) => UrlTree;
    const to = (queryParams: Record<string, string>) =>
      router.serializeUrl(TestBed.runInInjectionContext(() => redirect({ queryParams })));
    expect(to({})).toBe('/account');
    expect(to({ error: 'provider_linked_elsewhere' })).toBe('/account/linked?error=provider_linked_elsewhere');
  });

  it('the boards moved under /demo; /admin opens the admin console on its users', () => {
    const redirect = (path: string) => routes.find((r) => r.path === path)?.redirectTo;
    expect(redirect('user')).toBe('/demo/user');
    expect(redirect('mod')).toBe('/demo/mod');
    expect(redirect('admin')).toBe('/admin/users');
    expect(redirect('home')).toBe('');
  });

  it('an unknown address shows "Page not found" with its path, titled with the product’s name', async () => {
    TestBed.inject(BrandingService).apply({ productName: 'Acme ID' });
    const { url, harness } = await go('/no/such/page?token=secret');
    expect(url).toBe('/no/such/page?token=secret');
    const page = harness.routeNativeElement as HTMLElement;
    expect(page.querySelector('h1')?.textContent?.trim()).toBe('Page not found');
    expect(page.querySelector('[data-testid="not-found-path"]')?.textContent).toBe('/no/such/page');
    expect(page.querySelector('a')?.getAttribute('href')).toBe('/');
    expect(TestBed.inject(Title).getTitle()).toBe('Page not found · Acme ID');
  });
});
