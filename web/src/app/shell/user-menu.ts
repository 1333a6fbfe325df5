import { Component, ElementRef, inject, signal, viewChild } from '@angular/core';
import { NavigationStart, Router, RouterLink, RouterLinkActive } from '@angular/router';

import { AuthService } from '../core/auth.service';

/**
 * The navbar's right-hand side. Signed out: Sign in and Sign up. Signed in: a button with the
 * username that opens a menu of Account, Admin console (for those it has something for),
 * Demo and Sign out.
 *
 * A disclosure (a button that shows a list of links), not an ARIA `menu`: links keep their
 * own semantics and Tab order. The arrow keys move between the items too; Escape closes it
 * and puts the focus back on the button; so does a click or the focus going elsewhere.
 */
@Component({
  selector: 'app-user-menu',
  imports: [RouterLink, RouterLinkActive],
  templateUrl: './user-menu.html',
  host: {
    '(document:click)': 'onDocumentClick($event)',
    '(focusout)': 'onFocusOut($event)',
    '(keydown.escape)': 'closeAndFocusButton()',
  },
})
export class UserMenu {
  protected readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  private readonly host = inject<ElementRef<HTMLElement>>(ElementRef);
  private readonly button = viewChild<ElementRef<HTMLButtonElement>>('menuButton');
  private readonly list = viewChild<ElementRef<HTMLElement>>('list');

  protected readonly open = signal(false);
  protected readonly signingOut = signal(false);

  constructor() {
    this.router.events.subscribe((event) => {
      if (event instanceof NavigationStart) this.open.set(false);
    });
  }

  protected toggle(): void {
    this.open.update((open) => !open);
  }

  /** ArrowDown on the button opens the menu at its first item (ArrowUp: its last). */
  protected openAt(which: 'first' | 'last', event: Event): void {
    event.preventDefault();
    this.open.set(true);
    // The list shows once the change is rendered.
    setTimeout(() => {
      const items = this.items();
      items[which === 'first' ? 0 : items.length - 1]?.focus();
    });
  }

  /** Up, Down, Home and End move between the menu's items. */
  protected onListKey(event: KeyboardEvent): void {
    const items = this.items();
    const at = items.indexOf(event.target as HTMLElement);
    const next: Record<string, number> = {
      ArrowDown: (at + 1) % items.length,
      ArrowUp: (at - 1 + items.length) % items.length,
      Home: 0,
      End: items.length - 1,
    };
    if (!(event.key in next) || items.length === 0) return;
    event.preventDefault();
    items[next[event.key]].focus();
  }

  protected closeAndFocusButton(): void {
    if (!this.open()) return;
    this.open.set(false);
    this.button()?.nativeElement.focus();
  }

  protected onDocumentClick(event: MouseEvent): void {
    if (this.open() && !this.host.nativeElement.contains(event.target as Node | null)) {
      this.open.set(false);
    }
  }

  protected onFocusOut(event: FocusEvent): void {
    const to = event.relatedTarget as Node | null;
    if (this.open() && to !== null && !this.host.nativeElement.contains(to)) {
      this.open.set(false);
    }
  }

  protected async signOut(): Promise<void> {
    this.signingOut.set(true);
    try {
      await this.auth.signOut();
    } catch {
      // The server clears the cookies and ends the session; if it cannot be reached the
      // user is still forgotten here and the cookies expire on their own.
    } finally {
      this.signingOut.set(false);
      this.open.set(false);
      await this.router.navigate(['/login'], { queryParams: { reason: 'signedout' } });
    }
  }

  private items(): HTMLElement[] {
    const list = this.list()?.nativeElement;
    return list ? Array.from(list.querySelectorAll<HTMLElement>('.dropdown-item:not([disabled])')) : [];
  }
}
