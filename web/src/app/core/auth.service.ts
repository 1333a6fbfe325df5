import { HttpClient, HttpContext, HttpContextToken } from '@angular/common/http';
import { Injectable, computed, inject, signal } from '@angular/core';
import { firstValueFrom } from 'rxjs';

import {
  CurrentUser,
  MessageBody,
  MfaChallenge,
  ROLE_ADMIN,
  ROLE_MODERATOR,
  RecoveryCodes,
  TokenRequest,
} from './api.models';
import {
  PasskeyCreationOptions,
  PasskeyCredentialJSON,
  PasskeyRequestInit,
  PasskeyRequestOptions,
  createPasskey,
  getPasskey,
} from './webauthn';

/** The prefix of Portcullis's own permissions, which open parts of the admin console. */

/**
 * Marks a request whose 401 is an expected answer, not an ended session: the sign-in form
 * (wrong password) and the start-up question "who is signed in?" (nobody).
 */
export const EXPECTS_401 = new HttpContextToken<boolean>(() => false);

/** The second step of a sign-in: a code (TOTP or recovery) or a passkey's assertion. */
export type MfaProof = { code: string } | { credential: PasskeyCredentialJSON };

/** Whether a sign-in's answer is the second-factor challenge rather than the account. */
export function isMfaChallenge(body: unknown): body is MfaChallenge {
  return (
    typeof body === 'object' &&
    body !== null &&
    (body as { mfaRequired?: unknown }).mfaRequired === true &&
    typeof (body as { mfaToken?: unknown }).mfaToken === 'string'
  );
}

/**
 * Who is signed in. The session itself lives in HttpOnly cookies that no script can read;
 * this service only knows the account's public fields, as `GET /api/auth/me` returns them.
 */
@Injectable({ providedIn: 'root' })
export class AuthService {
  private readonly http = inject(HttpClient);
  private readonly current = signal<CurrentUser | null>(null);

  readonly user = this.current.asReadonly();
  readonly signedIn = computed(() => this.current() !== null);
  readonly roles = computed(() => this.current()?.roles ?? []);
  readonly isModerator = computed(
    () => this.roles().includes(ROLE_MODERATOR) || this.roles().includes(ROLE_ADMIN),
  );
  readonly isAdmin = computed(() => this.roles().includes(ROLE_ADMIN));
  /**
   * Whether the admin console opens for this account: admins. (A manager's
   * `portcullis:users:manage` is the API's to honour; the console's pages are admins' for
   * now, so the menu does not offer a door its guard would close.)
   */
  readonly canUseAdminConsole = computed(() => this.isAdmin());

  /** Asks the server who is signed in; any failure means "nobody". Never rejects. */
  async load(): Promise<CurrentUser | null> {
    try {
      const me = await firstValueFrom(
        this.http.get<CurrentUser>('/api/auth/me', {
          context: new HttpContext().set(EXPECTS_401, true),
        }),
      );
      this.current.set(pick(me));
    } catch {
      this.current.set(null);
    }
    return this.current();
  }

  /**
   * Signs in; the server answers with cookies. The body's tokens (when the server is in
   * `both` mode) are never read: the account is then fetched from `/api/auth/me`. For an
   * account with a second factor (or one that must enrol one) the answer is the challenge
   * instead, and no session exists yet: see `verifyMfa` and `enrolTotp`.
   */
  async signIn(username: string, password: string): Promise<CurrentUser | MfaChallenge> {
    const body = await firstValueFrom(
      this.http.post<unknown>('/api/auth/signin', { username, password }, expecting401()),
    );
    return isMfaChallenge(body) ? challengeOf(body) : this.signedInNow();
  }

  /**
   * Signs in with a mailed sign-in link's token. The server answers as it does to a sign-in
   * (cookies, or the second-factor challenge; the body's tokens, if any, are never read), so
   * this ends the same way.
   */
  async signInWithLink(token: string): Promise<CurrentUser | MfaChallenge> {
    const body: TokenRequest = { token };
    const answer = await firstValueFrom(
      this.http.post<unknown>('/api/auth/magic-link/confirm', body, expecting401()),
    );
    return isMfaChallenge(answer) ? challengeOf(answer) : this.signedInNow();
  }

  /**
   * Signs in with a passkey, no username needed: the browser offers the passkeys it holds
   * for this site. A passkey needs no second step. Rejects with the browser's error (the
   * dialog was closed…) or the server's.
   *
   * With `{ mediation: 'conditional', signal }` the browser offers the passkeys in the
   * username field's autofill rather than in a dialog, and the request waits (until one is
   * picked, or `signal` aborts it).
   */
  async signInWithPasskey(init: PasskeyRequestInit = {}): Promise<CurrentUser> {
    const options = await firstValueFrom(
      this.http.post<PasskeyRequestOptions>('/api/auth/passkeys/signin/start', null, expecting401()),
    );
    init.signal?.throwIfAborted();
    const credential = await getPasskey(options, init);
    await firstValueFrom(
      this.http.post<unknown>('/api/auth/passkeys/signin/finish', { credential }, expecting401()),
    );
    return this.signedInNow();
  }

  /**
   * Makes a new account whose only way in is a passkey, and signs it in: the server checks
   * the username and email and hands the options, the browser makes the passkey, and the
   * server makes the account with it. Rejects with the browser's error (the dialog was
   * closed…) or the server's (a taken username, `email_not_verified` when the account is made
   * but must verify its address before it signs in…).
   */
  async signUpWithPasskey(username: string, email: string): Promise<CurrentUser> {
    const options = await firstValueFrom(
      this.http.post<PasskeyCreationOptions>('/api/auth/passkeys/signup/start', { username, email }, expecting401()),
    );
    const credential = await createPasskey(options);
    await firstValueFrom(
      this.http.post<unknown>('/api/auth/passkeys/signup/finish', { credential }, expecting401()),
    );
    return this.signedInNow();
  }

  /** The second step of a sign-in; its answer is a sign-in's. */
  async verifyMfa(mfaToken: string, proof: MfaProof): Promise<CurrentUser> {
    await firstValueFrom(
      this.http.post<unknown>('/api/auth/mfa/verify', { mfaToken, ...proof }, expecting401()),
    );
    return this.signedInNow();
  }

  /** The second step done with one of the account's passkeys. */
  async verifyMfaWithPasskey(mfaToken: string): Promise<CurrentUser> {
    const options = await firstValueFrom(
      this.http.post<PasskeyRequestOptions>('/api/auth/mfa/passkey/start', { mfaToken }, expecting401()),
    );
    const credential = await getPasskey(options);
    return this.verifyMfa(mfaToken, { credential });
  }

  /**
   * Ends a sign-in whose enrolment is required: a right code from the new TOTP app (set up
   * with the same `mfaToken`) enables it and signs in. The recovery codes, to show once.
   * A wrong code is a 400 (`mfa_code_invalid`); a 401 (`mfa_token_invalid`) means the sign-in
   * expired and must start again.
   */
  async enrolTotp(mfaToken: string, code: string): Promise<string[]> {
    const answer = await firstValueFrom(
      this.http.post<RecoveryCodes>('/api/auth/mfa/totp/confirm', { mfaToken, code }, expecting401()),
    );
    await this.signedInNow();
    return [...(answer.recoveryCodes ?? [])];
  }

  /** After any sign-in: the account, from `/api/auth/me`. */
  private async signedInNow(): Promise<CurrentUser> {
    const me = await firstValueFrom(this.http.get<CurrentUser>('/api/auth/me'));
    this.current.set(pick(me));
    return me;
  }

  /** Ends this session on the server (which clears the cookies) and forgets the user. */
  async signOut(): Promise<void> {
    try {
      await firstValueFrom(
        this.http.post<MessageBody>('/api/auth/signout', null, {
          context: new HttpContext().set(EXPECTS_401, true),
        }),
      );
    } finally {
      this.current.set(null);
    }
  }

  /** Forgets the user without asking the server (the session is already gone). */
  clear(): void {
    this.current.set(null);
  }
}

/** The sign-in calls: a 401 is their answer (a wrong password or code), not an ended session. */
function expecting401(): { context: HttpContext } {
  return { context: new HttpContext().set(EXPECTS_401, true) };
}

/** Keeps only the challenge's fields, whatever else the answer carries. */
function challengeOf(body: MfaChallenge): MfaChallenge {
  return {
    mfaRequired: true,
    mfaToken: body.mfaToken,
    methods: Array.isArray(body.methods) ? [...body.methods] : [],
    expiresIn: body.expiresIn,
    enrolmentRequired: body.enrolmentRequired === true,
  };
}

/** Keeps only the public fields, whatever else an answer carries. */
function pick(me: CurrentUser): CurrentUser {
  return {
    id: me.id,
    username: me.username,
    email: me.email,
    emailVerified: me.emailVerified === true,
    roles: [...(me.roles ?? [])],
    createdAt: me.createdAt,
    groups: [...(me.groups ?? [])],
    permissions: [...(me.permissions ?? [])],
  };
}
