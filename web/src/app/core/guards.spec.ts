import { HttpTestingController } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import {
  ActivatedRouteSnapshot,
  CanActivateFn,
  GuardResult,
  MaybeAsync,
  Router,
  RouterStateSnapshot,
  UrlTree,
  convertToParamMap,
} from '@angular/router';

import { routes } from '../app.routes';
import { AuthService } from './auth.service';
import { ExternalNavigation } from './external-navigation';
import { adminGuard, anonymousGuard, moderatorGuard, signedInGuard } from './guards';
import { ALICE, setUpHttp, unauthorized } from '../../testing/http-testing';

function run(guard: CanActivateFn, url: string, query: Record<string, string> = {}): MaybeAsync<GuardResult> {
  const route = { queryParamMap: convertToParamMap(query) } as ActivatedRouteSnapshot;
  return TestBed.runInInjectionContext(() => guard(route, { url } as RouterStateSnapshot));
}

describe('route guards', () => {
  let http: HttpTestingController;
  let router: Router;
  let auth: AuthService;

  async function signInAs(roles: string[]) {
    const loading = auth.load();
    http.expectOne('/api/auth/me').flush({ ...ALICE, roles });
    await loading;
  }

  function urlOf(result: unknown): string {
    expect(result).toBeInstanceOf(UrlTree);
    return router.serializeUrl(result as UrlTree);
  }

  beforeEach(() => {
    ({ http, router } = setUpHttp());
    auth = TestBed.inject(AuthService);
  });

  afterEach(() => http.verify());

  it('signedInGuard sends anonymous visitors to login and brings them back', () => {
    expect(urlOf(run(signedInGuard, '/user'))).toBe('/login?returnUrl=%2Fuser');
  });

  it('signedInGuard lets a signed-in user through', async () => {
    await signInAs(['ROLE_USER']);
    expect(run(signedInGuard, '/user')).toBe(true);
  });

  it('moderatorGuard asks the server for fresh roles: a promotion counts at once', async () => {
    await signInAs(['ROLE_USER']);
    const result = run(moderatorGuard, '/mod') as Promise<GuardResult>;
    http.expectOne('/api/auth/me').flush({ ...ALICE, roles: ['ROLE_USER', 'ROLE_MODERATOR'] });
    expect(await result).toBe(true);
    expect(auth.isModerator()).toBe(true);
  });

  it('moderatorGuard refuses a plain user', async () => {
    await signInAs(['ROLE_USER']);
    const result = run(moderatorGuard, '/mod') as Promise<GuardResult>;
    http.expectOne('/api/auth/me').flush({ ...ALICE, roles: ['ROLE_USER'] });
    expect(urlOf(await result)).toBe('/forbidden');
  });

  it('adminGuard refuses a moderator and lets an admin through', async () => {
    await signInAs(['ROLE_USER', 'ROLE_MODERATOR']);
    let result = run(adminGuard, '/admin') as Promise<GuardResult>;
    http.expectOne('/api/auth/me').flush({ ...ALICE, roles: ['ROLE_USER', 'ROLE_MODERATOR'] });
    expect(urlOf(await result)).toBe('/forbidden');

    result = run(adminGuard, '/admin') as Promise<GuardResult>;
    http.expectOne('/api/auth/me').flush({ ...ALICE, roles: ['ROLE_USER', 'ROLE_ADMIN'] });
    expect(await result).toBe(true);
  });

  it('a role guard finding the session over sends the user to login with "session ended"', async () => {
    await signInAs(['ROLE_USER', 'ROLE_ADMIN']);
    const result = run(adminGuard, '/admin') as Promise<GuardResult>;
    http.expectOne('/api/auth/me').flush({ message: 'Unauthorized!' }, unauthorized());
    expect(urlOf(await result)).toBe('/login?reason=ended');
    expect(auth.signedIn()).toBe(false);
  });

  it('a role guard sends an anonymous visitor to login without asking the server', async () => {
    expect(urlOf(await run(adminGuard, '/admin/users'))).toBe('/login?returnUrl=%2Fadmin%2Fusers');
    http.expectNone('/api/auth/me');
  });

  it('anonymousGuard sends a signed-in user from login to the account console', async () => {
    expect(run(anonymousGuard, '/login')).toBe(true);
    await signInAs(['ROLE_USER']);
    expect(urlOf(run(anonymousGuard, '/login'))).toBe('/account');
  });

  it("anonymousGuard sends a signed-in user whose provider link failed (/login?error=…) to the account console's Linked sign-ins page, which says why", async () => {
    expect(run(anonymousGuard, '/login', { error: 'provider_linked_elsewhere' })).toBe(true);
    await signInAs(['ROLE_USER']);
    expect(urlOf(run(anonymousGuard, '/login', { error: 'provider_linked_elsewhere' }))).toBe(
      '/account/linked?error=provider_linked_elsewhere',
    );
    // Anything that is not a code of the server's is dropped.
    expect(urlOf(run(anonymousGuard, '/login', { error: '<script>' }))).toBe('/account');
  });

  describe('anonymousGuard with a way back (a link from another site to an app behind forward authentication)', () => {
    let assign: ReturnType<typeof vi.spyOn>;

    beforeEach(async () => {
      router.resetConfig(routes);
      assign = vi.spyOn(TestBed.inject(ExternalNavigation), 'assign').mockReturnValue(true);
      await signInAs(['ROLE_USER']);
    });

    it('sends a signed-in user straight to a path of this host the web app has no page for, by a full page load', () => {
      expect(run(anonymousGuard, '/login?returnUrl=%2Fapp%2F', { returnUrl: '/app/' })).toBe(false);
      expect(assign).toHaveBeenCalledExactlyOnceWith('/app/');
    });

    it("and to one of the web app's pages through the router", () => {
      const back = '/oauth/consent?request=abc&fresh=1';
      expect(urlOf(run(anonymousGuard, '/login', { returnUrl: back }))).toBe(back);
      expect(assign).not.toHaveBeenCalled();
    });

    it('but to the account console when the way back leads elsewhere, or the login page has a reason to show', () => {
      const queries: Record<string, string>[] = [
        { returnUrl: '//evil.example/' },
        { returnUrl: 'https://evil.example/' },
        { returnUrl: '/\\evil.example' },
        { returnUrl: '/app/', reason: 'reauth' },
      ];
      for (const query of queries) {
        expect(urlOf(run(anonymousGuard, '/login', query)), JSON.stringify(query)).toBe('/account');
      }
      expect(assign).not.toHaveBeenCalled();
    });

    it('lets a visitor who is not signed in sign in', async () => {
      const loading = auth.load();
      http.expectOne('/api/auth/me').flush({ message: 'Unauthorized!' }, unauthorized());
      await loading;
      expect(run(anonymousGuard, '/login', { returnUrl: '/app/' })).toBe(true);
      expect(assign).not.toHaveBeenCalled();
    });
  });
});
