import { DatePipe } from '@angular/common';
import { Component, inject, signal } from '@angular/core';
import { Router } from '@angular/router';

import { AccountService } from '../core/account.service';
import { SessionInfo } from '../core/api.models';
import { AuthService } from '../core/auth.service';
import { errorMessage } from '../core/errors';

/** How each kind of session was signed in, as the session list says it (null: not known here). */
function firstFactorLabel(method: string): string | null {
  switch (method) {
    case 'password':
      return $localize`:@@account.sessions.methodPassword:Password`;
    case 'magic_link':
      return $localize`:@@account.sessions.methodMagicLink:Emailed link`;
    case 'passkey':
      return $localize`:@@account.sessions.methodPasskey:Passkey`;
    case 'provider':
      return $localize`:@@account.sessions.methodProvider:Another provider`;
    case 'provider_mfa':
      return $localize`:@@account.sessions.methodProviderMfa:Another provider (both factors)`;
    default:
      return null;
  }
}

function secondFactorLabel(secondFactor: string): string | null {
  switch (secondFactor) {
    case 'totp':
      return $localize`:@@account.sessions.factorTotp:authenticator app`;
    case 'recovery_code':
      return $localize`:@@account.sessions.factorRecoveryCode:recovery code`;
    case 'passkey':
      return $localize`:@@account.sessions.factorPasskey:passkey`;
    default:
      return null;
  }
}

/**
 * `password`, `magic_link`, `passkey` (and any later method, as the server names it), with
 * the second factor that completed the sign-in: "Password + authenticator app".
 */
export function methodLabel(method: string | null | undefined, secondFactor?: string | null): string {
  if (!method) return '';
  const first = firstFactorLabel(method) ?? method.replace(/_/g, ' ');
  if (!secondFactor) return first;
  return `${first} + ${secondFactorLabel(secondFactor) ?? secondFactor.replace(/_/g, ' ')}`;
}

/** A session's browser and system, from its user agent, in a few words. */
export function describeAgent(agent: SessionInfo['userAgent']): string {
  if (!agent) return $localize`:@@account.sessions.unknownDevice:Unknown device`;
  const browser = /(Edg|Firefox|Chrome|Chromium|Safari)\/[\d.]+/.exec(agent)?.[0];
  const os = /(Windows|Android|iPhone|iPad|Mac OS X|Linux)/.exec(agent)?.[0];
  if (browser && os) return $localize`:@@account.sessions.browserOnSystem:${browser}:browser: on ${os}:system:`;
  return browser ?? os ?? agent.slice(0, 60);
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
  protected readonly unknownAddress = $localize`:@@account.sessions.unknownAddress:unknown address`;

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
