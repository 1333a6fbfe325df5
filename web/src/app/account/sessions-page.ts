import { DatePipe } from '@angular/common';
import { Component, inject, signal } from '@angular/core';
import { Router } from '@angular/router';

import { AccountService } from '../core/account.service';
import { SessionInfo } from '../core/api.models';
import { AuthService } from '../core/auth.service';
import { errorMessage } from '../core/errors';

/** How each kind of session was signed in, as the session list says it. */
const METHOD_LABELS: Record<string, string> = {
  password: 'Password',
  magic_link: 'Emailed link',
  passkey: 'Passkey',
  provider: 'Another provider',
  provider_mfa: 'Another provider (both factors)',
};
const SECOND_FACTOR_LABELS: Record<string, string> = {
  totp: 'authenticator app',
  recovery_code: 'recovery code',
  passkey: 'passkey',
};

/**
 * `password`, `magic_link`, `passkey` (and any later method, as the server names it), with
 * the second factor that completed the sign-in: "Password + authenticator app".
 */
export function methodLabel(method: string | null | undefined, secondFactor?: string | null): string {
  if (!method) return '';
  const first = METHOD_LABELS[method] ?? method.replace(/_/g, ' ');
  if (!secondFactor) return first;
  return `${first} + ${SECOND_FACTOR_LABELS[secondFactor] ?? secondFactor.replace(/_/g, ' ')}`;
}

/** A session's browser and system, from its user agent, in a few words. */
export function describeAgent(agent: SessionInfo['userAgent']): string {
  if (!agent) return 'Unknown device';
  const browser = /(Edg|Firefox|Chrome|Chromium|Safari)\/[\d.]+/.exec(agent)?.[0];
  const os = /(Windows|Android|iPhone|iPad|Mac OS X|Linux)/.exec(agent)?.[0];
  return browser || os ? [browser, os].filter(Boolean).join(' on ') : agent.slice(0, 60);
}

/** Where my account is signed in, with a sign-out of each session and of all of them. */
@Component({
  selector: 'app-sessions-page',
  imports: [DatePipe],
  templateUrl: './sessions-page.html',
})
export class SessionsPage {
  private readonly auth = inject(AuthService);
  private readonly account = inject(AccountService);
  private readonly router = inject(Router);

  protected readonly sessions = signal<SessionInfo[]>([]);
  protected readonly loadingSessions = signal(true);
  protected readonly sessionsError = signal('');
  protected readonly busySession = signal<string | null>(null);
  protected readonly signingOutAll = signal(false);
  protected readonly methodLabel = methodLabel;
  protected readonly describeAgent = describeAgent;

  constructor() {
    this.loadSessions();
  }

  protected loadSessions(): void {
    this.loadingSessions.set(true);
    this.sessionsError.set('');
    this.account.sessions().subscribe({
      next: (items) => {
        this.sessions.set(items);
        this.loadingSessions.set(false);
      },
      error: (e: unknown) => {
        this.sessionsError.set(errorMessage(e));
        this.loadingSessions.set(false);
      },
    });
  }

  protected endSession(session: SessionInfo): void {
    if (session.current) {
      void this.signOutHere();
      return;
    }
    this.busySession.set(session.id);
    this.sessionsError.set('');
    this.account.endSession(session.id).subscribe({
      next: () => {
        this.busySession.set(null);
        this.sessions.update((list) => list.filter((s) => s.id !== session.id));
      },
      error: (e: unknown) => {
        this.busySession.set(null);
        this.sessionsError.set(errorMessage(e));
      },
    });
  }

  private async signOutHere(): Promise<void> {
    try {
      await this.auth.signOut();
    } catch {
      // Forgotten locally either way.
    }
    await this.router.navigate(['/login'], { queryParams: { reason: 'signedout' } });
  }

  protected signOutEverywhere(): void {
    this.signingOutAll.set(true);
    this.sessionsError.set('');
    this.account.signOutEverywhere().subscribe({
      next: () => {
        this.signingOutAll.set(false);
        this.auth.clear();
        void this.router.navigate(['/login'], { queryParams: { reason: 'signedout' } });
      },
      error: (e: unknown) => {
        this.signingOutAll.set(false);
        this.sessionsError.set(errorMessage(e));
      },
    });
  }
}
