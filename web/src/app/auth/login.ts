import { DOCUMENT } from '@angular/common';
import { Component, DestroyRef, OnInit, computed, inject, input, signal } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { Router, RouterLink } from '@angular/router';

import { AccountService } from '../core/account.service';
import { MailPolicy, MfaChallenge, MfaMethod, ProviderButton } from '../core/api.models';
import { AuthService, isMfaChallenge } from '../core/auth.service';
import { BrandingService } from '../core/branding.service';
import { SESSION_ENDED } from '../core/credentials.interceptor';
import { errorMessage } from '../core/errors';
import { ExternalNavigation } from '../core/external-navigation';
import { IdentityService } from '../core/identity.service';
import { providerErrorMessage, rememberProvider, takeRememberedProvider } from '../core/provider-errors';
import { OAuthService, REAUTH_REASON } from '../core/oauth.service';
import { AFTER_SIGN_IN, routedInApp, safeReturnUrl } from '../core/return-url';
import { passkeyAutofillAvailable, passkeyErrorMessage, passkeysSupported } from '../core/webauthn';
import { BrandLogo } from '../shell/brand-logo';
import { LoginState, REGISTERED_REASON } from './login-state';
import { SecondFactor } from './second-factor';

/** The second-step methods a provider's callback may name in `#mfa=…&methods=…`. */
const MFA_METHODS: readonly MfaMethod[] = ['totp', 'passkey', 'recovery'];

/**
 * The sign-in request of the consent page a `returnUrl` leads back to
 * (`/oauth/consent?request=<token>…`), or null when it leads elsewhere.
 */
export function consentRequestOf(returnUrl: string | null | undefined): string | null {
  const back = safeReturnUrl(returnUrl ?? null);
  if (back === null) return null;
  const url = new URL(back, 'http://app.invalid');
  return url.pathname === '/oauth/consent' ? url.searchParams.get('request') || null : null;
}

/** How long a second step's token works (the server's, which the fragment does not say). */
const MFA_TOKEN_SECONDS = 300;

/**
 * A provider callback's second step, from the address's fragment
 * (`#mfa=<token>&methods=totp,passkey,recovery[&enrolment=1][&returnTo=…]`): the challenge a
 * password sign-in answers, and where to go once it is done; null when the fragment is not one.
 */
export function challengeFromFragment(hash: string): { challenge: MfaChallenge; returnTo: string | null } | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const token = params.get('mfa');
  if (!token) return null;
  const named = (params.get('methods') ?? '').split(',');
  return {
    challenge: {
      mfaRequired: true,
      mfaToken: token,
      methods: MFA_METHODS.filter((m) => named.includes(m)),
      expiresIn: MFA_TOKEN_SECONDS,
      enrolmentRequired: params.get('enrolment') === '1',
    },
    returnTo: safeReturnUrl(params.get('returnTo')),
  };
}

/**
 * Sign in with a username or an email address, or with a passkey (where the browser can and
 * the server has passkeys on), or with another identity provider the server has ("Continue
 * with …", a navigation to the provider and back); where the server sends mail, links to a
 * password reset and (if the server offers them) to sign-in links. When the account has a
 * second factor, the password step gives way to the second step (`SecondFactor`), and so
 * does a provider's sign-in that comes back with one to take (`#mfa=…`). A provider's
 * sign-in that failed comes back with `?error=<code>`, said in a sentence.
 *
 * Where the browser offers passkeys in autofill, a quiet (conditional) passkey request waits
 * from the start: picking a passkey in the username field's suggestions signs in as the
 * button does. The heading names the application when the sign-in is for one (the consent
 * page is the way back).
 */
@Component({
  selector: 'app-login',
  imports: [BrandLogo, ReactiveFormsModule, RouterLink, SecondFactor],
  templateUrl: './login.html',
})
export class Login implements OnInit {
  private readonly auth = inject(AuthService);
  protected readonly branding = inject(BrandingService);
  private readonly oauth = inject(OAuthService);
  private readonly router = inject(Router);
  private readonly navigation = inject(ExternalNavigation);
  private readonly document = inject(DOCUMENT);
  private readonly identity = inject(IdentityService);

  /**
   * `?reason=ended` after a 401, `?reason=signedout` after signing out, `?reason=reauth` when
   * an application asked for a fresh sign-in (the consent page signed the user out first).
   */
  readonly reason = input<string>();
  /** Where to go once signed in (set by the route guards and the consent page). */
  readonly returnUrl = input<string>();
  /** `?error=<code>`: why a sign-in with another provider failed. */
  readonly providerErrorCode = input<string>(undefined, { alias: 'error' });

  protected readonly notice = computed(() => {
    switch (this.reason()) {
      case SESSION_ENDED:
        return $localize`:@@auth.login.noticeSessionEnded:Your session has ended. Please sign in again.`;
      case 'signedout':
        return $localize`:@@auth.login.noticeSignedOut:You've been signed out.`;
      case REAUTH_REASON:
        return $localize`:@@auth.login.noticeReauth:Please sign in again to continue to the application.`;
      case REGISTERED_REASON:
        return this.mail()?.requireVerifiedEmail
          ? $localize`:@@auth.login.noticeRegisteredVerify:Account created. Open the link we mailed to your address, then sign in.`
          : $localize`:@@auth.login.noticeRegistered:Account created. Sign in to continue.`;
      default:
        return '';
    }
  });
  protected readonly submitting = signal(false);
  protected readonly error = signal('');
  /** The policy's `mail`; until it is known (or if it cannot be), no mail links show. */
  protected readonly mail = signal<MailPolicy | null>(null);
  /** Set when the password was right and the account has a second factor (or must enrol). */
  protected readonly challenge = signal<MfaChallenge | null>(null);
  /**
   * "Sign in with a passkey" shows where the browser can make one and the policy says
   * passkeys are on at this server; until the policy is known (or if it cannot be), it
   * does not.
   */
  protected readonly passkeys = signal(false);
  protected readonly passkeyBusy = signal(false);
  /** The enabled identity providers (none until known, or if they cannot be). */
  protected readonly providers = signal<ProviderButton[]>([]);
  /** The provider this tab last went to, for the error sentence (read once). */
  private readonly lastProvider: string | null;
  /** Set once the visitor tries again: the provider's error is then old news. */
  private readonly providerErrorDismissed = signal(false);
  protected readonly providerError = computed(() => {
    const code = this.providerErrorCode();
    return code && !this.providerErrorDismissed() ? providerErrorMessage(code, this.lastProvider) : '';
  });
  /** Where a provider's second step said to go afterwards (from the fragment). */
  private readonly fragmentReturn = signal<string | null>(null);
  /** The application this sign-in is for (when the way back is its consent page), once known. */
  protected readonly clientName = signal<string | null>(null);
  /** The application's own logo, when its admin gave it one. */
  protected readonly clientLogo = signal<string | null>(null);
  /** The waiting autofill (conditional) passkey request, if any. */
  private autofill: AbortController | null = null;
  private destroyed = false;

  protected readonly form = inject(NonNullableFormBuilder).group({
    username: ['', Validators.required],
    password: ['', Validators.required],
  });

  constructor() {
    const state = this.router.currentNavigation()?.extras.state as LoginState | undefined;
    if (typeof state?.username === 'string') {
      this.form.controls.username.setValue(state.username);
    }
    inject(DestroyRef).onDestroy(() => {
      this.destroyed = true;
      this.stopPasskeyAutofill();
    });
    const storage = this.document.defaultView?.sessionStorage;
    this.lastProvider = takeRememberedProvider(storage);
    this.takeSecondStepFromFragment();
    this.identity
      .providers()
      .subscribe({
        next: (items) => this.providers.set(items),
        error: () => undefined,
      });
    inject(AccountService)
      .policy()
      .subscribe({
        next: (policy) => {
          this.mail.set(policy.mail);
          this.passkeys.set(policy.passkeys && passkeysSupported());
          if (this.passkeys()) void this.startPasskeyAutofill();
        },
        error: () => undefined,
      });
  }

  ngOnInit(): void {
    const request = consentRequestOf(this.returnUrl());
    if (request === null) return;
    // A failure just leaves the generic heading.
    this.oauth.request(request).subscribe({
      next: (info) => {
        this.clientName.set(info.client.name);
        this.clientLogo.set(info.client.logoUrl ?? null);
      },
      error: () => undefined,
    });
  }

  /**
   * A provider's callback that needs a second step lands here with it in the fragment: it
   * leaves the address at once (so that it is neither kept in the history nor bookmarked),
   * and the second step shows as after a password.
   */
  private takeSecondStepFromFragment(): void {
    const location = this.document.location;
    const found = challengeFromFragment(location?.hash ?? '');
    if (found === null) return;
    const history = this.document.defaultView?.history;
    history?.replaceState(history.state, '', location.pathname + location.search);
    this.fragmentReturn.set(found.returnTo);
    this.challenge.set(found.challenge);
  }

  /**
   * The start of a sign-in with `provider`, which comes back to where this login was for (the
   * consent page, a page the guard stopped), or to the account console.
   */
  protected providerHref(provider: ProviderButton): string {
    return this.identity.startUrl(provider.id, safeReturnUrl(this.returnUrl()) ?? AFTER_SIGN_IN);
  }

  /** "Continue with …": a page navigation to the start, which sends the browser to the provider. */
  protected continueWith(provider: ProviderButton, event?: Event): void {
    event?.preventDefault();
    this.providerErrorDismissed.set(true);
    rememberProvider(this.document.defaultView?.sessionStorage, provider.displayName);
    this.navigation.assign(this.providerHref(provider));
  }

  protected async submit(): Promise<void> {
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    this.submitting.set(true);
    this.providerErrorDismissed.set(true);
    this.error.set('');
    const { username, password } = this.form.getRawValue();
    try {
      const answer = await this.auth.signIn(username, password);
      this.form.controls.password.reset();
      if (isMfaChallenge(answer)) {
        this.stopPasskeyAutofill();
        this.challenge.set(answer);
      } else {
        await this.proceed();
      }
    } catch (e) {
      this.error.set(errorMessage(e));
      this.form.controls.password.reset();
    } finally {
      this.submitting.set(false);
    }
  }

  /** No username needed: the browser offers the passkeys it holds for this site. */
  protected async signInWithPasskey(): Promise<void> {
    if (this.passkeyBusy()) return;
    // The browser runs one passkey request at a time: the quiet one gives way to the dialog.
    this.stopPasskeyAutofill();
    this.passkeyBusy.set(true);
    this.providerErrorDismissed.set(true);
    this.error.set('');
    try {
      await this.auth.signInWithPasskey();
      await this.proceed();
    } catch (e) {
      this.error.set(passkeyErrorMessage(e));
    } finally {
      this.passkeyBusy.set(false);
    }
  }

  /**
   * The quiet passkey request behind the username field's autofill. It ends silently when it
   * is aborted (the button, the second step, leaving the page) or fails: the other ways to
   * sign in are all still there, and an error about a request the user never saw would
   * only puzzle them.
   */
  private async startPasskeyAutofill(): Promise<void> {
    if (this.autofill !== null || this.challenge() !== null) return;
    const controller = new AbortController();
    this.autofill = controller;
    try {
      if (!(await passkeyAutofillAvailable()) || this.destroyed || controller.signal.aborted) return;
      await this.auth.signInWithPasskey({ mediation: 'conditional', signal: controller.signal });
    } catch {
      return;
    } finally {
      if (this.autofill === controller) this.autofill = null;
    }
    if (!controller.signal.aborted) await this.proceed();
  }

  private stopPasskeyAutofill(): void {
    this.autofill?.abort();
    this.autofill = null;
  }

  /**
   * Signed in (after the second step too): where the guard, the consent page or a proxy in
   * front of another app wanted to go when that is a page of this host (`safeReturnUrl`),
   * otherwise the account console. A path the router has no page for (an app behind forward
   * authentication, such as `/app/`) is a full page load: the router would show Home.
   */
  protected async proceed(): Promise<void> {
    const back = this.fragmentReturn() ?? safeReturnUrl(this.returnUrl());
    if (back !== null && !routedInApp(back, this.router.config)) {
      this.navigation.assign(back);
      return;
    }
    await this.router.navigateByUrl(back ?? AFTER_SIGN_IN);
  }

  /** The second step ended without a sign-in: back to the password, with why. */
  protected restart(message: string): void {
    this.challenge.set(null);
    this.error.set(message);
    this.form.controls.password.reset();
    if (this.passkeys()) void this.startPasskeyAutofill();
  }
}
