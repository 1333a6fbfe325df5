import { HttpClient } from '@angular/common/http';
import { Component, inject, signal } from '@angular/core';
import { firstValueFrom } from 'rxjs';

import { AuthService } from '../core/auth.service';
import {
  LANGUAGES,
  LANGUAGE_NAMES,
  Language,
  currentLanguage,
  rememberLanguage,
  supported,
  withoutUiLocales,
} from '../core/language';

/**
 * The language picker of every page's footer: the choice is remembered in this browser (a
 * cookie the server reads too) and, for a signed-in user, kept with the account so that its
 * mails speak it. The page then reloads, since texts are translated as components are made,
 * without the `ui_locales` it may have been opened with (which would otherwise win).
 */
@Component({
  selector: 'app-language-picker',
  template: `
    <div class="d-inline-flex align-items-center gap-2">
      <label for="language-picker" class="form-label mb-0" i18n="@@language.label">Language</label>
      <select
        id="language-picker"
        class="form-select form-select-sm w-auto"
        [disabled]="saving()"
        (change)="choose($any($event.target).value)"
        data-testid="language-picker"
      >
        @for (option of languages; track option) {
          <!-- [selected] as well: the select's own [value] is set before its options exist. -->
          <option [value]="option" [selected]="option === language" [attr.lang]="option">{{ names[option] }}</option>
        }
      </select>
    </div>
  `,
})
export class LanguagePicker {
  private readonly http = inject(HttpClient);
  private readonly auth = inject(AuthService);
  protected readonly languages = LANGUAGES;
  protected readonly names = LANGUAGE_NAMES;
  protected readonly language = currentLanguage();
  protected readonly saving = signal(false);

  async choose(value: string): Promise<void> {
    const language: Language | null = supported(value);
    if (!language || language === this.language) {
      return;
    }
    this.saving.set(true);
    rememberLanguage(language);
    if (this.auth.user()) {
      // The browser's choice stands even if the account's cannot be saved now.
      await firstValueFrom(this.http.put('/api/auth/locale', { locale: language })).catch(() => null);
    }
    this.reopen(withoutUiLocales(location.href));
  }

  /**
   * Loads the page again, at `href` when that differs (a `replace`, since the page is the
   * same); a seam for the unit test.
   */
  protected reopen(href: string): void {
    if (href === location.href) {
      location.reload();
    } else {
      location.replace(href);
    }
  }
}
