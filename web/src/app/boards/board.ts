import { Component, computed, effect, inject, input, signal } from '@angular/core';

import { Board, ContentService } from '../core/content.service';
import { errorMessage } from '../core/errors';

/** A board's heading. */
export function boardHeading(board: Board): string {
  switch (board) {
    case 'all':
      return $localize`:@@boards.board.headingAll:Public content`;
    case 'user':
      return $localize`:@@boards.board.headingUser:User board`;
    case 'mod':
      return $localize`:@@boards.board.headingMod:Moderator board`;
    case 'admin':
      return $localize`:@@boards.board.headingAdmin:Admin board`;
  }
}

/**
 * One of the demo's boards; the route's data names the board. The content is the server's
 * test data (`/api/test/*`), shown as it comes.
 */
@Component({
  selector: 'app-board',
  template: `
    <h2 class="h4">{{ heading() }}</h2>
    @if (loading()) {
      <p i18n="@@boards.board.loading"><span class="spinner-border spinner-border-sm" role="status"></span> Loading…</p>
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
  protected readonly heading = computed(() => boardHeading(this.board()));
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
