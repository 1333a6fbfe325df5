import { DatePipe } from '@angular/common';
import { Component, inject, signal } from '@angular/core';

import { AdminService } from '../core/admin.service';
import { AuditEntry } from '../core/api.models';
import { errorMessage } from '../core/errors';

const PAGE_SIZE = 25;

/** The audit log, newest first, with "load older". */
@Component({
  selector: 'app-audit-log',
  imports: [DatePipe],
  template: `
    <div class="d-flex gap-2 mb-2">
      <button type="button" class="btn btn-outline-secondary btn-sm" (click)="reload()" [disabled]="loading()">Refresh</button>
      @if (loading()) {
        <span class="spinner-border spinner-border-sm" role="status"><span class="visually-hidden">Loading…</span></span>
      }
    </div>
    @if (error()) {
      <div class="alert alert-danger" role="alert">{{ error() }}</div>
    }
    <div class="table-responsive">
      <table class="table table-sm table-striped small" data-testid="audit">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Event</th>
            <th scope="col">Outcome</th>
            <th scope="col">User</th>
            <th scope="col">Actor</th>
            <th scope="col">Address</th>
          </tr>
        </thead>
        <tbody>
          @for (entry of entries(); track entry.id) {
            <tr>
              <td class="text-nowrap">{{ entry.at | date: 'medium' }}</td>
              <td>
                {{ entry.event }}
                @if (entry.clientId) {
                  <span class="text-body-secondary small d-block" data-testid="audit-client">client {{ entry.clientId }}</span>
                }
              </td>
              <td>
                <span class="badge" [class.text-bg-success]="entry.outcome === 'ok'" [class.text-bg-danger]="entry.outcome !== 'ok'">{{ entry.outcome }}</span>
              </td>
              <td class="text-break">{{ entry.username ?? entry.subjectId ?? '' }}</td>
              <td>{{ entry.via === 'cli' ? 'command line' : (entry.actorId ?? '') }}</td>
              <td>{{ entry.ip ?? '' }}</td>
            </tr>
          } @empty {
            @if (!loading()) {
              <tr><td colspan="6" class="text-body-secondary">No events yet.</td></tr>
            }
          }
        </tbody>
      </table>
    </div>
    @if (more()) {
      <button type="button" class="btn btn-outline-secondary btn-sm" (click)="older()" [disabled]="loading()">Load older</button>
    }
  `,
})
export class AuditLog {
  private readonly admin = inject(AdminService);
  protected readonly entries = signal<AuditEntry[]>([]);
  protected readonly loading = signal(false);
  protected readonly error = signal('');
  protected readonly more = signal(false);

  constructor() {
    this.reload();
  }

  protected reload(): void {
    this.entries.set([]);
    this.fetch(undefined);
  }

  protected older(): void {
    const last = this.entries().at(-1);
    this.fetch(last?.id);
  }

  private fetch(before: number | undefined): void {
    this.loading.set(true);
    this.error.set('');
    this.admin.audit(PAGE_SIZE, before).subscribe({
      next: (items) => {
        this.entries.update((list) => [...list, ...items]);
        this.more.set(items.length === PAGE_SIZE);
        this.loading.set(false);
      },
      error: (e: unknown) => {
        this.error.set(errorMessage(e));
        this.loading.set(false);
      },
    });
  }
}
