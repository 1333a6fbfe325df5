import { HttpErrorResponse } from '@angular/common/http';
import { Component, OnInit, computed, inject, input, signal } from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import { firstValueFrom } from 'rxjs';

import { AuthService } from '../core/auth.service';
import { BrandingService } from '../core/branding.service';
import { SESSION_ENDED } from '../core/credentials.interceptor';
import { errorCode, errorMessage } from '../core/errors';
import { ExternalNavigation } from '../core/external-navigation';
import { OAuthRequestInfo, describeScope } from '../core/oauth-api';
import { OAuthService, REAUTH_REASON, REQUEST_UNKNOWN } from '../core/oauth.service';
import { routedInApp, safeReturnUrl } from '../core/return-url';
import { RoleLabelPipe } from '../core/role-label';
import { BrandLogo } from '../shell/brand-logo';

export function requestExpired(): string {
  return $localize`:@@oauth.consent.expired:This sign-in request has expired or was already used. Go back to the application and try again.`;
}
export function requestIncomplete(): string {
  return $localize`:@@oauth.consent.incomplete:This sign-in request is incomplete. Go back to the application and try again.`;
}
export function deviceWarning(): string {
  return $localize`:@@oauth.consent.deviceWarning:A device is asking to sign in as you. Only continue if you started this yourself on a device you have in front of you, and the code matches.`;
}

/**
 * What the page shows: the request being fetched, a dead or cut-short request, an error
 * fetching it, the way to the login page, the consent itself, or the way back to the
 * application.
 */
type State = 'loading' | 'incomplete' | 'expired' | 'error' | 'to-login' | 'ready' | 'leaving';

/**
 * `/oauth/consent?request=<token>`: where `/api/oauth/authorize` sends a relying party's
 * browser. Someone not signed in goes through the login page (and its second step) and comes
 * back here; where the application asked for a fresh sign-in (`signInRequired`), a signed-in
 * user is signed out first. Then: which application, as whom, and what it asks for, with
 * Allow and Deny (each scope with what the application will receive: the user's own username,
 * address, roles and groups); the server's answer says where the browser goes next: a full navigation to
 * the application, or the router for a page of this app (the device page's `/device?result=`).
 *
 * A request a device made (`device`, RFC 8628: the user typed its code on `/device`) comes
 * with a warning, and is never allowed without asking, even when `alreadyAllowed`: someone
 * may have sent the user a code of a device of theirs, hoping for a click on Allow.
 *
 * `fresh=1` marks a return from the login page: the sign-in just made is the fresh one, so
 * the page does not sign out again (the server still checks the session's age when the
 * request is allowed, and answers `reauthentication_required` if it is too old).
 */
@Component({
  selector: 'app-consent',
  imports: [BrandLogo, RoleLabelPipe, RouterLink],
  templateUrl: './consent.html',
})
export class Consent implements OnInit {
  protected readonly auth = inject(AuthService);
  protected readonly branding = inject(BrandingService);
  private readonly oauth = inject(OAuthService);
  private readonly router = inject(Router);
  private readonly navigation = inject(ExternalNavigation);

  /** `?request=`: the pending request's token. */
  readonly request = input<string>();
  /** `?fresh=1` on the way back from the login page. */
  readonly fresh = input<string>();
  /** `?ui_locales=`: the client's languages, kept on the way through the login page. */
  readonly ui_locales = input<string>();

  protected readonly state = signal<State>('loading');
  protected readonly info = signal<OAuthRequestInfo | null>(null);
  /** Fetching the request failed (other than a dead request). */
  protected readonly loadError = signal('');
  /** Allowing or denying failed; the buttons stay. */
  protected readonly error = signal('');
  /** Which button is at work. */
  protected readonly busy = signal<'allow' | 'deny' | null>(null);
  protected readonly EXPIRED = requestExpired();
  protected readonly INCOMPLETE = requestIncomplete();
  protected readonly describe = describeScope;
  protected readonly DEVICE_WARNING = deviceWarning();
  /** The request comes from a device (its code typed on `/device`): warn, never skip asking. */
  protected readonly device = computed(() => this.info()?.device === true);

  ngOnInit(): void {
    void this.load();
  }

  protected async load(): Promise<void> {
    const token = this.request();
    if (!token) {
      this.state.set('incomplete');
      return;
    }
    this.state.set('loading');
    this.loadError.set('');
    let info: OAuthRequestInfo;
    try {
      info = await firstValueFrom(this.oauth.request(token));
    } catch (e) {
      if (isDead(e)) {
        this.state.set('expired');
      } else if (e instanceof HttpErrorResponse && e.status === 401) {
        this.auth.clear();
        await this.toLogin(token, SESSION_ENDED);
      } else {
        this.loadError.set(errorMessage(e));
        this.state.set('error');
      }
      return;
    }
    if (!this.auth.signedIn()) {
      await this.toLogin(token);
    } else if (info.signInRequired && this.fresh() !== '1') {
      await this.signOutQuietly();
      await this.toLogin(token, REAUTH_REASON);
    } else {
      this.info.set(info);
      this.state.set('ready');
      if (info.alreadyAllowed && info.device !== true) {
        await this.decide(true);
      }
    }
  }

  protected async decide(approve: boolean): Promise<void> {
    const token = this.request();
    if (!token || this.busy()) return;
    this.busy.set(approve ? 'allow' : 'deny');
    this.error.set('');
    try {
      const { redirectTo } = await firstValueFrom(this.oauth.decide(token, approve));
      this.state.set('leaving');
      if (!(await this.follow(redirectTo))) {
        this.state.set('ready');
        this.busy.set(null);
        this.error.set($localize`:@@oauth.consent.badAddress:The server answered with an address this page cannot open.`);
      }
    } catch (e) {
      const code: string | null = errorCode(e);
      if (e instanceof HttpErrorResponse && e.status === 401) {
        this.auth.clear();
        await this.toLogin(token, SESSION_ENDED);
      } else if (code === 'reauthentication_required') {
        await this.signOutQuietly();
        await this.toLogin(token, REAUTH_REASON);
      } else if (isDead(e)) {
        this.state.set('expired');
      } else {
        this.error.set(errorMessage(e));
      }
      this.busy.set(null);
    }
  }

  /**
   * Goes where the server's answer says: a page of this app (a path the router has, such as
   * `/device?result=approved`) by the router, anything else by a full navigation. False when
   * the address is one no page may open.
   */
  private async follow(redirectTo: string): Promise<boolean> {
    const path = safeReturnUrl(redirectTo);
    if (path !== null && routedInApp(path, this.router.config)) {
      try {
        await this.router.navigateByUrl(path);
        return true;
      } catch {
        return false;
      }
    }
    return this.navigation.assign(redirectTo);
  }

  /** "Not you?": signs out, then the login page, then back here. */
  protected async switchAccount(): Promise<void> {
    const token = this.request();
    if (!token || this.busy()) return;
    await this.signOutQuietly();
    await this.toLogin(token, 'signedout');
  }

  /** To the login page, which brings the user back here once signed in. */
  private async toLogin(token: string, reason?: string): Promise<void> {
    this.state.set('to-login');
    const back = this.router.serializeUrl(
      this.router.createUrlTree(['/oauth/consent'], {
        queryParams: { request: token, fresh: 1, ui_locales: this.ui_locales() || undefined },
      }),
    );
    await this.router.navigate(['/login'], {
      queryParams: reason ? { returnUrl: back, reason } : { returnUrl: back },
    });
  }

  private async signOutQuietly(): Promise<void> {
    try {
      await this.auth.signOut();
    } catch {
      // The user is forgotten here either way; the login page signs in afresh.
    }
  }
}

/** The request has expired or was used (404 `oauth_request_unknown`, or any 404). */
function isDead(e: unknown): boolean {
  // Not in the generated ErrorCode yet: compared as a string.
  const code: string | null = errorCode(e);
  return (e instanceof HttpErrorResponse && e.status === 404) || code === REQUEST_UNKNOWN;
}
