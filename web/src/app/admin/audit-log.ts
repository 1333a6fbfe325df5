import { DatePipe } from '@angular/common';
import { Component, effect, inject, input, signal, untracked } from '@angular/core';
import { Subscription } from 'rxjs';

import { AdminService } from '../core/admin.service';
import { errorMessage } from '../core/errors';
import { NamedAuditEntry, actorLabel, eventWords, subjectLabel } from './audit-events';

/**
 * The audit log, newest first: each event in words (its code beside it), its outcome, whom it
 * concerns and who did it by name, and "load older" when `paging`. Its first page loads again
 * after every change made in the console, so a change shows here without Refresh.
 */
@Component({
  selector: 'app-audit-log',
  imports: [DatePipe],
  styleUrl: './admin-table.css',
  template: `
    @if (paging()) {
      <div class="d-flex gap-2 mb-2 align-items-center">
        <button type="button" class="btn btn-outline-secondary btn-sm" (click)="reload()" [disabled]="loading()" data-testid="audit-refresh" i18n="@@admin.audit.refresh">Refresh</button>
        @if (loading()) {
          <span class="spinner-border spinner-border-sm" role="status"><span class="visually-hidden" i18n="@@admin.audit.loading">Loading…</span></span>
        }
      </div>
    }
    @if (error()) {
      <div class="alert alert-danger" role="alert" data-testid="audit-error">{{ error() }}</div>
    }
    <div class="table-responsive">
      <table class="table table-sm table-striped small table-stack" data-testid="audit">
        <thead>
          <tr>
            <th scope="col" i18n="@@admin.audit.when">When</th>
            <th scope="col" i18n="@@admin.audit.event">Event</th>
            <th scope="col" i18n="@@admin.audit.outcome">Outcome</th>
            <th scope="col" i18n="@@admin.audit.user">User</th>
            <th scope="col" i18n="@@admin.audit.by">By</th>
            <th scope="col" i18n="@@admin.audit.address">Address</th>
          </tr>
        </thead>
        <tbody>
          @for (entry of entries(); track entry.id) {
            <tr [attr.data-event]="entry.event" data-testid="audit-entry">
              <td class="text-nowrap" data-label="When" i18n-data-label="@@admin.audit.when"><time [attr.datetime]="entry.at">{{ entry.at | date: 'medium' }}</time></td>
              <td data-label="Event" i18n-data-label="@@admin.audit.event">
                <span data-testid="audit-event" [attr.title]="entry.event">{{ eventWords(entry.event) }}</span>
                <code class="d-block text-body-secondary small" data-testid="audit-event-code">{{ entry.event }}</code>
                @if (entry.clientId) {
                  <span class="text-body-secondary small d-block" data-testid="audit-client" i18n="@@admin.audit.client">client {{ entry.clientId }}</span>
                }
                @if (entry.detail) {
                  <span class="text-body-secondary small d-block text-break" data-testid="audit-detail">{{ entry.detail }}</span>
                }
              </td>
              <td data-label="Outcome" i18n-data-label="@@admin.audit.outcome">
                @if (entry.outcome === 'ok') {
                  <span class="badge text-bg-success" data-testid="audit-outcome" i18n="@@admin.audit.ok">OK</span>
                } @else {
                  <span class="badge text-bg-danger" data-testid="audit-outcome" i18n="@@admin.audit.failed">Failed</span>
                }
              </td>
              <td class="text-break" data-label="User" i18n-data-label="@@admin.audit.user" data-testid="audit-subject">{{ subjectLabel(entry) }}</td>
              <td class="text-break" data-label="By" i18n-data-label="@@admin.audit.by" data-testid="audit-actor">{{ actorLabel(entry) }}</td>
              <td class="text-break" data-label="Address" i18n-data-label="@@admin.audit.address">{{ entry.ip ?? '' }}</td>
            </tr>
          } @empty {
            @if (!loading()) {
              <tr><td colspan="6" class="text-body-secondary" data-testid="audit-empty" i18n="@@admin.audit.empty">No events yet.</td></tr>
            }
          }
        </tbody>
      </table>
    </div>
    @if (paging() && more()) {
      <button type="button" class="btn btn-outline-secondary btn-sm" (click)="older()" [disabled]="loading()" data-testid="audit-older" i18n="@@admin.audit.older">Load older</button>
    }
  `,
})
export class AuditLog {
  private readonly admin = inject(AdminService);

  /** Events a page. */
  readonly limit = input(25);
  /** Refresh and "load older"; without, a short list of the newest events. */
  readonly paging = input(true);

  protected readonly entries = signal<NamedAuditEntry[]>([]);
  protected readonly loading = signal(false);
  protected readonly error = signal('');
  protected readonly more = signal(false);
  protected readonly eventWords = eventWords;
  protected readonly subjectLabel = subjectLabel;
  protected readonly actorLabel = actorLabel;
  private request?: Subscription;

  constructor() {
    // At once, and again after each change made in the console.
    effect(() => {
      this.admin.changes();
      untracked(() => this.reload());
    });
  }

  protected reload(): void {
    this.fetch(undefined);
  }

  protected older(): void {
    this.fetch(this.entries().at(-1)?.id);
  }

  private fetch(before: number | undefined): void {
    this.request?.unsubscribe();
    this.loading.set(true);
    this.error.set('');
    this.request = this.admin.audit(this.limit(), before).subscribe({
      next: (items: NamedAuditEntry[]) => {
        // A first page replaces the list (only now, so that it does not blink).
        this.entries.update((list) => (before === undefined ? items : [...list, ...items]));
        this.more.set(items.length === this.limit());
        this.loading.set(false);
      },
      error: (e: unknown) => {
        this.error.set(errorMessage(e));
        this.loading.set(false);
      },
    });
  }
}
