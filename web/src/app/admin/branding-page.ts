import { Component, ElementRef, inject, signal, viewChild } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { NonNullableFormBuilder, ReactiveFormsModule } from '@angular/forms';
import { Observable, map, of, startWith, switchMap, tap } from 'rxjs';

import { BrandingService } from '../core/branding.service';
import { errorMessage } from '../core/errors';
import { AdminNav } from './admin-nav';
import { Branding, BrandingApi, LOGO_TYPES } from './branding-api';
import { BrandingValue, buildBrandingForm, brandingChange, formValue, logoProblem } from './branding-form';
import { showErrors } from './client-form';
import { AdminNotices } from './notices';

/** A logo chosen but not sent yet, with what the preview shows of it. */
interface ChosenLogo {
  file: File;
  dataUrl: string;
}

/**
 * Branding (admins only): the product's name, its primary colour (or none), the link under
 * the sign-in pages and the logo, with a live preview of the sign-in page's header. Save sends
 * the settings, then the logo's change if there is one.
 */
@Component({
  selector: 'app-branding-page',
  imports: [AdminNav, ReactiveFormsModule],
  templateUrl: './branding-page.html',
})
export class BrandingPage {
  private readonly api = inject(BrandingApi);
  private readonly fb = inject(NonNullableFormBuilder);
  private readonly notices = inject(AdminNotices);
  private readonly shell = inject(BrandingService);
  private readonly logoInput = viewChild<ElementRef<HTMLInputElement>>('logoInput');
  protected readonly showErrors = showErrors;
  protected readonly logoTypes = LOGO_TYPES.join(',');

  protected readonly form = buildBrandingForm(this.fb);
  /** What the form holds, for the preview. */
  protected readonly value = toSignal(
    this.form.valueChanges.pipe(
      startWith(null),
      map((): BrandingValue => this.form.getRawValue()),
    ),
    { requireSync: true },
  );

  protected readonly current = signal<Branding | null>(null);
  protected readonly loading = signal(true);
  protected readonly loadError = signal('');
  protected readonly chosenLogo = signal<ChosenLogo | null>(null);
  protected readonly removingLogo = signal(false);
  protected readonly logoError = signal('');
  protected readonly saving = signal(false);
  protected readonly saveError = signal('');

  constructor() {
    this.api.get().subscribe({
      next: (branding) => {
        this.show(branding);
        this.loading.set(false);
      },
      error: (e: unknown) => {
        this.loadError.set(errorMessage(e));
        this.loading.set(false);
      },
    });
  }

  /** The logo the preview shows: the one chosen, else the current one unless it is to go. */
  protected previewLogo(): string | null {
    const chosen = this.chosenLogo();
    if (chosen) return chosen.dataUrl;
    return this.removingLogo() ? null : (this.current()?.logoUrl ?? null);
  }

  protected previewColor(): string | null {
    const value = this.value();
    return value.noColor ? null : value.color;
  }

  /** Takes the file picked as the logo to send at Save, if the server would take it. */
  protected choose(input: HTMLInputElement): void {
    const file = input.files?.[0];
    this.logoError.set('');
    if (!file) return;
    const problem = logoProblem(file);
    if (problem) {
      this.logoError.set(problem);
      input.value = '';
      return;
    }
    const reader = new FileReader();
    // A data: URL, since the page's Content-Security-Policy lets images come from data: but not blob:.
    reader.onload = () => {
      this.chosenLogo.set({ file, dataUrl: String(reader.result) });
      this.removingLogo.set(false);
    };
    reader.onerror = () => this.logoError.set($localize`:@@admin.branding.fileUnreadable:The file could not be read.`);
    reader.readAsDataURL(file);
  }

  /** Drops a chosen logo, or marks the current one to be removed at Save. */
  protected removeLogo(): void {
    this.logoError.set('');
    if (this.chosenLogo()) {
      this.chosenLogo.set(null);
    } else {
      this.removingLogo.set(true);
    }
    this.clearFileInput();
  }

  protected keepLogo(): void {
    this.removingLogo.set(false);
  }

  protected save(): void {
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    if (this.saving()) return;
    const chosen = this.chosenLogo();
    const removing = this.removingLogo();
    let logoStep = false;
    this.saving.set(true);
    this.saveError.set('');
    this.api
      .save(brandingChange(this.form.getRawValue()))
      .pipe(
        tap((saved) => {
          this.current.set(saved);
          logoStep = true;
        }),
        switchMap((saved): Observable<Branding> => {
          if (chosen) return this.api.uploadLogo(chosen.file);
          if (removing && saved.logoUrl !== null) return this.api.removeLogo();
          return of(saved);
        }),
      )
      .subscribe({
        next: (branding) => {
          this.saving.set(false);
          this.show(branding);
          // The app around this page shows the new branding at once, not at the next load.
          this.shell.apply(branding);
          const name = branding.productName;
          const said = chosen
            ? $localize`:@@admin.branding.savedWithLogo:Branding saved: ${name}:name:, with the new logo.`
            : removing
              ? $localize`:@@admin.branding.savedWithoutLogo:Branding saved: ${name}:name:, without a logo.`
              : $localize`:@@admin.branding.saved:Branding saved: ${name}:name:.`;
          this.notices.say(said, 'branding-notice');
        },
        error: (e: unknown) => {
          this.saving.set(false);
          const error = errorMessage(e);
          this.saveError.set(logoStep ? $localize`:@@admin.branding.logoNotSaved:The settings are saved, but not the logo: ${error}:error:` : error);
          if (logoStep) this.form.markAsPristine();
        },
      });
  }

  /** The branding as the server has it, in the form and the preview; nothing pending. */
  private show(branding: Branding): void {
    this.current.set(branding);
    this.form.reset(formValue(branding));
    this.chosenLogo.set(null);
    this.removingLogo.set(false);
    this.clearFileInput();
  }

  private clearFileInput(): void {
    const input = this.logoInput()?.nativeElement;
    if (input) input.value = '';
  }
}
