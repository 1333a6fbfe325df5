import { Component, inject } from '@angular/core';
import { ActivatedRoute, RouterLink } from '@angular/router';

/** What an address the app has no page for shows: that, the address, and the way home. */
@Component({
  selector: 'app-not-found',
  imports: [RouterLink],
  template: `
    <section class="py-4 text-center" data-testid="not-found">
      <p class="display-4 text-body-secondary mb-0" aria-hidden="true">404</p>
      <h1 class="h3" i18n="@@shell.notFound.heading">Page not found</h1>
      <p i18n="@@shell.notFound.text">
        There is no page at <code class="text-break" data-testid="not-found-path">{{ path }}</code>.
        It may have moved, or the link may be mistyped.
      </p>
      <a class="btn btn-primary" routerLink="/" i18n="@@shell.notFound.home">Go to the home page</a>
    </section>
  `,
})
export class NotFound {
  /** The path asked for, without its query and fragment (which may hold tokens). */
  protected readonly path = '/' + inject(ActivatedRoute).snapshot.url.map((s) => s.path).join('/');
}
