import { Component, inject, signal } from '@angular/core';

import { ContentService } from '../core/content.service';
import { errorMessage } from '../core/errors';

/** The public content from `/api/test/all`. */
@Component({
  selector: 'app-home',
  template: `
    <div class="p-4 mb-4 bg-body-tertiary rounded-3">
      <h1 class="h3">Portcullis</h1>
      @if (loading()) {
        <p><span class="spinner-border spinner-border-sm" role="status"></span> Loading…</p>
      } @else if (error()) {
        <div class="alert alert-danger" role="alert">{{ error() }}</div>
      } @else {
        <p class="lead mb-0" data-testid="content">{{ content() }}</p>
      }
    </div>
  `,
})
export class Home {
  protected readonly loading = signal(true);
  protected readonly content = signal('');
  protected readonly error = signal('');

  constructor() {
    inject(ContentService)
      .board('all')
      .subscribe({
        next: (text) => {
          this.content.set(text);
          this.loading.set(false);
        },
        error: (e: unknown) => {
          this.error.set(errorMessage(e));
          this.loading.set(false);
        },
      });
  }
}
