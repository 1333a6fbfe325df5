import { HttpErrorResponse } from '@angular/common/http';
import { Component, OnInit, inject, input, signal } from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import { firstValueFrom } from 'rxjs';

import { LogoutConfirm, LogoutRequestInfo } from '../core/api.models';
import { AuthService } from '../core/auth.service';
import { errorMessage } from '../core/errors';
import { ExternalNavigation } from '../core/external-navigation';
import { OAuthService } from '../core/oauth.service';

export function logoutIncomplete(): string {
  return $localize`:@@oauth.logout.incomplete:This sign-out request is incomplete. Go back to the application and try again.`;
}
export function signedOut(): string {
  return $localize`:@@oauth.logout.signedOut:You've been signed out.`;
}
export function notSignedIn(): string {
  return $localize`:@@oauth.logout.notSignedIn:You are not signed in to Portcullis.`;
}
/** The end of Continue, when nobody was signed in and the application asked for no redirect. */
export function stillSignedOut(): string {
  return $localize`:@@oauth.logout.stillSignedOut:You are signed out of Portcullis.`;
}
export function badAddress(): string {
  return $localize`:@@oauth.logout.badAddress:The server answered with an address this page cannot open.`;
}

/**
 * What the page shows: a request without its ID token, the request being checked, one the
 * server refuses (no buttons), an error checking it (try again), the question, the way back
 * to the application, or the end.
 */
type State = 'incomplete' | 'loading' | 'invalid' | 'error' | 'ask' | 'leaving' | 'done';

/**
 * `/oauth/logout?id_token_hint=…&post_logout_redirect_uri=…&state=…`: where
 * `/api/oauth/logout` sends an application's logout request that came without this
 * browser's cookies (any request from another site, the cookies being SameSite=Strict). The
 * server has ended nothing: this page asks. Signed in: Sign out (this session ends, then back
 * to the application if it asked) or Stay signed in (home, nothing ended, the application is
 * not told). Not signed in: nothing to end; Continue goes back to the application.
 *
 * Whether the browser is signed in is the app's auth state, asked at start-up (a 401 there is
 * "nobody", never the login page); the page's own calls need no session either.
 */
@Component({
  selector: 'app-logout',
  imports: [RouterLink],
  templateUrl: './logout.html',
})
export class Logout implements OnInit {
  protected readonly auth = inject(AuthService);
  private readonly oauth = inject(OAuthService);
  private readonly router = inject(Router);
  private readonly navigation = inject(ExternalNavigation);

  /** `?id_token_hint=`: an ID token the application was given. */
  readonly idTokenHint = input<string | undefined>(undefined, { alias: 'id_token_hint' });
  /** `?post_logout_redirect_uri=`: where the application wants the browser back, if anywhere. */
  readonly postLogoutRedirectUri = input<string | undefined>(undefined, { alias: 'post_logout_redirect_uri' });
  /** `?state=`: the application's, handed back with the redirect. */
  readonly state = input<string | undefined>(undefined, { alias: 'state' });

  protected readonly view = signal<State>('loading');
  protected readonly info = signal<LogoutRequestInfo | null>(null);
  /** Whether this browser was signed in when the page asked (and so what the end says). */
  protected readonly wasSignedIn = signal(false);
  /** Checking the request failed: the server's words. */
  protected readonly loadError = signal('');
  /** Confirming failed (the buttons stay), or the answer's address cannot be opened. */
  protected readonly error = signal('');
  /** Which button is at work. */
  protected readonly busy = signal<'signout' | 'continue' | null>(null);
  protected readonly INCOMPLETE = logoutIncomplete();
  protected readonly SIGNED_OUT = signedOut();
  protected readonly NOT_SIGNED_IN = notSignedIn();
  protected readonly STILL_SIGNED_OUT = stillSignedOut();

  ngOnInit(): void {
    void this.load();
  }

  protected async load(): Promise<void> {
    const request = this.request();
    if (!request) {
      this.view.set('incomplete');
      return;
    }
    this.view.set('loading');
    this.loadError.set('');
    try {
      const info = await firstValueFrom(this.oauth.logoutRequest(request));
      this.info.set(info);
      this.wasSignedIn.set(this.auth.signedIn());
      this.view.set('ask');
    } catch (e) {
      this.loadError.set(errorMessage(e));
      this.view.set(isRefused(e) ? 'invalid' : 'error');
    }
  }

  /** Sign out (signed in) or Continue (not signed in): the server ends this session, if any. */
  protected async confirm(): Promise<void> {
    const request = this.request();
    if (!request || this.busy()) return;
    this.busy.set(this.wasSignedIn() ? 'signout' : 'continue');
    this.error.set('');
    try {
      const done = await firstValueFrom(this.oauth.confirmLogout(request));
      // The server has ended this browser's session and cleared its cookies.
      this.auth.clear();
      if (done.redirectTo) {
        this.view.set('leaving');
        if (!this.navigation.assign(done.redirectTo)) {
          this.error.set(badAddress());
          this.view.set('done');
        }
      } else {
        this.view.set('done');
      }
    } catch (e) {
      if (isRefused(e)) {
        this.loadError.set(errorMessage(e));
        this.view.set('invalid');
      } else {
        this.error.set(errorMessage(e));
      }
    } finally {
      this.busy.set(null);
    }
  }

  /** Nothing ends and the application is not told: home. */
  protected async stay(): Promise<void> {
    if (this.busy()) return;
    await this.router.navigate(['/']);
  }

  /** The request's parameters, as the page got them; null without an ID token. */
  private request(): LogoutConfirm | null {
    const idTokenHint = this.idTokenHint();
    if (!idTokenHint) return null;
    const request: LogoutConfirm = { idTokenHint };
    const uri = this.postLogoutRedirectUri();
    if (uri !== undefined) request.postLogoutRedirectUri = uri;
    const state = this.state();
    if (state !== undefined) request.state = state;
    return request;
  }
}

/** A request the server will not honour (a bad hint, an unregistered URI): a 400. */
function isRefused(e: unknown): boolean {
  return e instanceof HttpErrorResponse && e.status === 400;
}
