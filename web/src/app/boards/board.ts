import { Component, effect, inject, input, signal } from '@angular/core';

import { Board, ContentService } from '../core/content.service';
import { errorMessage } from '../core/errors';

/** One of the demo's boards; the route's data names the board and its heading. */
@Component({
  selector: 'app-board',
  template: `
    <h2 class="h4">{{ heading() }}</h2>
    @if (loading()) {
      <p><span class="spinner-border spinner-border-sm" role="status"></span> Loading…</p>
    } @else if (error()) {
      <div class="alert alert-danger" role="alert" data-testid="error">{{ error() }}</div>
    } @else {
      <p class="lead" data-testid="content">{{ content() }}</p>
    }
  `,
})
export class BoardPage {
  private readonly contentService = inject(ContentService);
  readonly board = input.required<Board>();
  readonly heading = input('');
  protected readonly loading = signal(true);
  protected readonly content = signal('');
  protected readonly error = signal('');

  constructor() {
    effect((onCleanup) => {
      this.loading.set(true);
      this.error.set('');
      const sub = this.contentService.board(this.board()).subscribe({
        next: (text) => {
          this.content.set(text);
          this.loading.set(false);
        },
        error: (e: unknown) => {
          this.error.set(errorMessage(e));
          this.loading.set(false);
        },
      });
      onCleanup(() => sub.unsubscribe());
    });
  }
}
