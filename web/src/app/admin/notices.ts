import { Component, Injectable, OnDestroy, inject, signal } from '@angular/core';

/** How long a confirmation stays on screen unless another replaces it or it is dismissed. */
export const NOTICE_MS = 10_000;

/** A confirmation of a change, and the test id the page used to give it. */
export interface Notice {
  id: number;
  text: string;
  testid: string;
}

/**
 * The admin console's confirmations: every change the server accepted is said here, in words
 * that name what changed ("alice is now disabled"). One at a time, the newest winning.
 */
@Injectable({ providedIn: 'root' })
export class AdminNotices {
  private readonly latest = signal<Notice | null>(null);
  readonly current = this.latest.asReadonly();
  private count = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Shows `text`. `testid` names where it came from (`roles-notice`, `providers-notice`…), for
   * the browser tests that read it.
   */
  say(text: string, testid = 'admin-notice'): void {
    clearTimeout(this.timer);
    this.latest.set({ id: ++this.count, text, testid });
    this.timer = setTimeout(() => this.latest.set(null), NOTICE_MS);
  }

  dismiss(): void {
    clearTimeout(this.timer);
    this.latest.set(null);
  }
}

/**
 * Where the confirmations show: a toast at the bottom of the viewport (so a phone sees it
 * whatever it has scrolled to), inside a `role="status"` region that is always there, so
 * screen readers announce each new one. It lets clicks through to what it covers, but for its
 * close button.
 */
@Component({
  selector: 'app-admin-toast',
  template: `
    <div class="admin-toast-region" role="status" aria-live="polite" aria-atomic="true" data-testid="admin-toast-region">
      @if (notices.current(); as notice) {
        <div class="toast show text-bg-success border-0 admin-toast" data-testid="admin-confirmation">
          <div class="d-flex align-items-start">
            <div class="toast-body" [attr.data-testid]="notice.testid">{{ notice.text }}</div>
            <button type="button" class="btn-close btn-close-white me-2 mt-2 flex-shrink-0" (click)="notices.dismiss()" aria-label="Dismiss" i18n-aria-label="@@admin.notices.dismiss"></button>
          </div>
        </div>
      }
    </div>
  `,
  styles: `
    .admin-toast-region {
      position: fixed;
      bottom: 1rem;
      left: 50%;
      transform: translateX(-50%);
      width: min(32rem, calc(100vw - 1rem));
      z-index: 1090;
      pointer-events: none;
    }
    .admin-toast {
      width: 100%;
    }
    .btn-close {
      pointer-events: auto;
    }
  `,
})
export class AdminToast implements OnDestroy {
  protected readonly notices = inject(AdminNotices);

  /** A confirmation belongs to the page it was made on. */
  ngOnDestroy(): void {
    this.notices.dismiss();
  }
}
