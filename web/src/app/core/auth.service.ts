import { HttpClient, HttpContext, HttpContextToken } from '@angular/common/http';
import { Injectable, computed, inject, signal } from '@angular/core';
import { firstValueFrom } from 'rxjs';

import {
  CurrentUser,
  MessageBody,
  ROLE_ADMIN,
  ROLE_MODERATOR,
  TokenRequest,
} from './api.models';

/**
 * Marks a request whose 401 is an expected answer, not an ended session: the sign-in form
 * (wrong password) and the start-up question "who is signed in?" (nobody).
 */
export const EXPECTS_401 = new HttpContextToken<boolean>(() => false);

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
   * `both` mode) are never read: the account is then fetched from `/api/auth/me`.
   */
  async signIn(username: string, password: string): Promise<CurrentUser> {
    await firstValueFrom(
      this.http.post<unknown>(
        '/api/auth/signin',
        { username, password },
        { context: new HttpContext().set(EXPECTS_401, true) },
      ),
    );
    return this.signedInNow();
  }

  /**
   * Signs in with a mailed sign-in link's token. The server answers as it does to a sign-in
   * (cookies; the body's tokens, if any, are never read), so this ends the same way.
   */
  async signInWithLink(token: string): Promise<CurrentUser> {
    const body: TokenRequest = { token };
    await firstValueFrom(
      this.http.post<unknown>('/api/auth/magic-link/confirm', body, {
        context: new HttpContext().set(EXPECTS_401, true),
      }),
    );
    return this.signedInNow();
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

/** Keeps only the public fields, whatever else an answer carries. */
function pick(me: CurrentUser): CurrentUser {
  return {
    id: me.id,
    username: me.username,
    email: me.email,
    emailVerified: me.emailVerified === true,
    roles: [...(me.roles ?? [])],
    createdAt: me.createdAt,
  };
}
