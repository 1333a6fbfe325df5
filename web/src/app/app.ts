import { Component, inject, signal } from '@angular/core';
import { Router, RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';

import { VerifyBanner } from './account/verify-banner';
import { AuthService } from './core/auth.service';

@Component({
  selector: 'app-root',
  imports: [RouterOutlet, RouterLink, RouterLinkActive, VerifyBanner],
  templateUrl: './app.html',
})
export class App {
  protected readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  protected readonly menuOpen = signal(false);
  protected readonly signingOut = signal(false);

  protected closeMenu(): void {
    this.menuOpen.set(false);
  }

  protected async signOut(): Promise<void> {
    this.signingOut.set(true);
    this.closeMenu();
    try {
      await this.auth.signOut();
    } catch {
      // The server clears the cookies and ends the session; if it cannot be reached the
      // user is still forgotten here and the cookies expire on their own.
    } finally {
      this.signingOut.set(false);
      await this.router.navigate(['/login'], { queryParams: { reason: 'signedout' } });
    }
  }
}
