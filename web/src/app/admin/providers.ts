import { Component, inject, signal } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { NonNullableFormBuilder, ReactiveFormsModule } from '@angular/forms';
import { startWith } from 'rxjs';

import { AdminService } from '../core/admin.service';
import { ProviderItem } from '../core/api.models';
import { errorCode, errorMessage } from '../core/errors';
import { showErrors } from './client-form';
import { AdminNotices } from './notices';
import { RoleMappingFields } from './role-mapping-fields';
import {
  KIND_SETTINGS,
  KindSetting,
  SignupPolicy,
  applyKind,
  buildEditForm,
  buildProviderForm,
  editValue,
  mappingSummary,
  newProviderBody,
  providerChange,
  providerKindLabel,
  providerKinds,
  resetMapping,
  secretRequired,
  signupLabel,
  signupOf,
} from './provider-form';

/**
 * The identity providers people may sign in with: the list (id, kind, name, on or off, who
 * gets an account, the roles it gives, how many accounts are linked through each),
 * configuring one (its kind's settings; the client secret goes in and never comes out; the
 * roles and groups a claim gives), turning one on or off, changing one (an Edit form under
 * its row: name, sign-up, allowed domains, both factors, a new secret, the roles from the
 * provider), and deleting one after a confirmation (and, while accounts are linked through
 * it, after a second one that unlinks them: `cascade`).
 */
@Component({
  selector: 'app-providers',
  imports: [ReactiveFormsModule, RoleMappingFields],
  templateUrl: './providers.html',
  styleUrl: './admin-table.css',
})
export class Providers {
  private readonly admin = inject(AdminService);
  private readonly fb = inject(NonNullableFormBuilder);
  private readonly notices = inject(AdminNotices);
  protected readonly showErrors = showErrors;
  protected readonly kinds = providerKinds();
  protected readonly signupLabel = signupLabel;
  protected readonly signups: readonly SignupPolicy[] = ['existing', 'domains', 'open'];
  protected readonly signupOf = signupOf;
  protected readonly secretRequired = secretRequired;
  protected readonly mappingSummary = mappingSummary;

  protected readonly providers = signal<ProviderItem[]>([]);
  protected readonly loading = signal(true);
  protected readonly error = signal('');
  protected readonly busy = signal<string | null>(null);
  protected readonly confirmingDelete = signal<string | null>(null);
  /** The provider a delete was refused for (409 `in_use`): it may be deleted and unlinked. */
  protected readonly inUse = signal<ProviderItem | null>(null);
  /** The roles and groups that exist, offered in the mapping's fields. */
  protected readonly roleNames = signal<string[]>([]);
  protected readonly groupNames = signal<string[]>([]);

  protected readonly creating = signal(false);
  protected readonly createError = signal('');
  protected readonly form = buildProviderForm(this.fb);
  protected readonly kind = toSignal(this.form.controls.kind.valueChanges.pipe(startWith(this.form.controls.kind.value)), {
    requireSync: true,
  });
  protected readonly signup = toSignal(
    this.form.controls.signup.valueChanges.pipe(startWith(this.form.controls.signup.value)),
    { requireSync: true },
  );

  protected readonly editing = signal<string | null>(null);
  protected readonly editForm = buildEditForm(this.fb);
  protected readonly editSignup = toSignal(
    this.editForm.controls.signup.valueChanges.pipe(startWith(this.editForm.controls.signup.value)),
    { requireSync: true },
  );
  protected readonly saving = signal(false);
  protected readonly editError = signal('');

  constructor() {
    applyKind(this.form, this.form.controls.kind.value);
    this.form.controls.kind.valueChanges.subscribe((kind) => applyKind(this.form, kind));
    this.load();
    // The names only help typing: without them the fields are plain text, and the server
    // says which name does not exist.
    this.admin.roles().subscribe({ next: (items) => this.roleNames.set(items.map((r) => r.name)), error: () => undefined });
    this.admin.groups().subscribe({ next: (items) => this.groupNames.set(items.map((g) => g.name)), error: () => undefined });
  }

  protected load(): void {
    this.loading.set(true);
    this.admin.providers().subscribe({
      next: (items) => {
        this.providers.set(items);
        this.loading.set(false);
      },
      error: (e: unknown) => {
        this.error.set(errorMessage(e));
        this.loading.set(false);
      },
    });
  }

  /** Whether the kind chosen in the form takes `setting`. */
  protected takes(setting: KindSetting): boolean {
    return KIND_SETTINGS[this.kind()].includes(setting);
  }

  protected kindLabel(kind: string): string {
    return providerKindLabel(kind);
  }

  /** An example of the base URL the chosen kind takes (a URL: not translated). */
  protected baseUrlExample(): string {
    return this.kind() === 'github' ? 'https://github.example.com' : 'https://login.microsoftonline.us';
  }

  protected create(): void {
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    if (this.creating()) return;
    const body = newProviderBody(this.form.getRawValue());
    this.creating.set(true);
    this.createError.set('');
    this.admin.createProvider(body).subscribe({
      next: (made) => {
        this.creating.set(false);
        this.providers.update((list) => [...list, made].sort((a, b) => a.id.localeCompare(b.id)));
        this.notices.say(
          made.enabled
            ? $localize`:@@providers.notices.createdOn:Provider ${made.displayName}:name: (${made.id}:id:) configured: its button shows on the login page.`
            : $localize`:@@providers.notices.createdOff:Provider ${made.displayName}:name: (${made.id}:id:) configured, turned off.`,
          'providers-notice',
        );
        this.form.reset();
        this.form.controls.roleMapping.controls.rules.clear();
      },
      error: (e: unknown) => {
        this.creating.set(false);
        this.createError.set(errorMessage(e));
        // The secret is not kept in the page longer than it takes to send it.
        this.form.controls.clientSecret.reset();
      },
    });
  }

  /** Turns the provider on (its button shows on the login page) or off. */
  protected setEnabled(provider: ProviderItem, enabled: boolean): void {
    this.busy.set(provider.id);
    this.error.set('');
    this.admin.updateProvider(provider.id, { enabled }).subscribe({
      next: (updated) => {
        this.busy.set(null);
        this.replace(updated);
        this.notices.say(
          updated.enabled
            ? $localize`:@@providers.notices.turnedOn:${updated.displayName}:name: is on.`
            : $localize`:@@providers.notices.turnedOff:${updated.displayName}:name: is off: nobody signs in with it.`,
          'providers-notice',
        );
      },
      error: (e: unknown) => {
        this.busy.set(null);
        this.error.set(`${provider.id}: ${errorMessage(e)}`);
      },
    });
  }

  protected edit(provider: ProviderItem): void {
    const value = editValue(provider);
    resetMapping(this.editForm.controls.roleMapping, value.roleMapping);
    this.editForm.reset(value);
    this.editing.set(provider.id);
    this.editError.set('');
    this.confirmingDelete.set(null);
  }

  protected cancelEdit(): void {
    this.editing.set(null);
    this.editError.set('');
  }

  protected save(provider: ProviderItem): void {
    if (this.editForm.invalid) {
      this.editForm.markAllAsTouched();
      return;
    }
    if (this.saving()) return;
    const change = providerChange(provider, this.editForm.getRawValue());
    if (Object.keys(change).length === 0) {
      this.cancelEdit();
      return;
    }
    this.saving.set(true);
    this.editError.set('');
    this.admin.updateProvider(provider.id, change).subscribe({
      next: (updated) => {
        this.saving.set(false);
        this.replace(updated);
        this.editing.set(null);
        this.notices.say($localize`:@@providers.notices.saved:Provider ${updated.displayName}:name: (${updated.id}:id:) saved.`, 'providers-notice');
      },
      error: (e: unknown) => {
        this.saving.set(false);
        this.editError.set(errorMessage(e));
        this.editForm.controls.clientSecret.reset();
      },
    });
  }

  /** Deletes the provider; `cascade` unlinks every account's identity at it first. */
  protected remove(provider: ProviderItem, cascade = false): void {
    this.confirmingDelete.set(null);
    this.inUse.set(null);
    this.busy.set(provider.id);
    this.error.set('');
    this.admin.removeProvider(provider.id, cascade).subscribe({
      next: () => {
        this.busy.set(null);
        this.providers.update((list) => list.filter((p) => p.id !== provider.id));
        if (this.editing() === provider.id) this.editing.set(null);
        this.notices.say($localize`:@@providers.notices.deleted:Provider ${provider.displayName}:name: (${provider.id}:id:) deleted.`, 'providers-notice');
      },
      error: (e: unknown) => {
        this.busy.set(null);
        if (!cascade && errorCode(e) === 'in_use') this.inUse.set(provider);
        this.error.set(`${provider.id}: ${errorMessage(e)}`);
      },
    });
  }

  private replace(updated: ProviderItem): void {
    this.providers.update((list) => list.map((p) => (p.id === updated.id ? updated : p)));
  }
}
