import { Component, ElementRef, Injector, afterNextRender, inject, input } from '@angular/core';
import { ReactiveFormsModule } from '@angular/forms';

import { showErrors } from './client-form';
import { MAX_RULES, MAX_RULE_NAMES, MappingForm, RuleForm, ruleForm, suggestions } from './provider-form';

/**
 * "Roles from the provider", for a new provider and for each provider's Edit: the claim read
 * at each sign-in (GitHub's is `orgs`, fixed) and its rules, a row each: the value the claim
 * holds, and the roles and groups it gives (names with commas between them; the names that
 * exist are offered). An empty row is left out; the ids start with `prefix` (a new
 * provider's are `provider-…`).
 */
@Component({
  selector: 'app-role-mapping-fields',
  imports: [ReactiveFormsModule],
  templateUrl: './role-mapping-fields.html',
})
export class RoleMappingFields {
  private readonly host = inject<ElementRef<HTMLElement>>(ElementRef);
  private readonly injector = inject(Injector);

  readonly form = input.required<MappingForm>();
  /** The start of every field's id: `provider` for a new provider, `edit-provider` for an Edit. */
  readonly prefix = input.required<string>();
  /** A GitHub provider: the claim is `orgs`, the person's organisations. */
  readonly github = input(false);
  /** The roles and groups that exist, offered as they are typed. */
  readonly roleNames = input<readonly string[]>([]);
  readonly groupNames = input<readonly string[]>([]);

  protected readonly MAX_RULES = MAX_RULES;
  protected readonly MAX_RULE_NAMES = MAX_RULE_NAMES;
  protected readonly suggestions = suggestions;

  /** An example of the value the claim holds (an organisation, a group's path: not translated). */
  protected valueExample(): string {
    return this.github() ? 'acme' : 'acme/ops';
  }

  /** The name a row's group has for screen readers: "Rule 1". */
  protected ruleLabel(index: number): string {
    return $localize`:@@providers.mapping.rule:Rule ${index + 1}:number:`;
  }

  protected id(field: string): string {
    return `${this.prefix()}-${field}`;
  }

  protected claimInvalid(): boolean {
    const form = this.form();
    const claim = form.controls.claim;
    return showErrors(claim) || (form.hasError('claimRequired') && (claim.touched || form.controls.rules.touched));
  }

  /** The value's error shows once it was typed in or left. */
  protected valueInvalid(rule: RuleForm): boolean {
    const value = rule.controls.value;
    return rule.hasError('value') && (value.dirty || value.touched);
  }

  /** The names' errors show once both fields were left (or a save was tried). */
  protected namesInvalid(rule: RuleForm): boolean {
    const { roles, groups } = rule.controls;
    return (
      (rule.hasError('namesRequired') && roles.touched && groups.touched) ||
      (rule.hasError('names') && (roles.dirty || groups.dirty || roles.touched))
    );
  }

  protected add(): void {
    const rules = this.form().controls.rules;
    if (rules.length >= MAX_RULES) return;
    rules.push(ruleForm());
    const index = rules.length - 1;
    this.focusSoon(`#${this.id('rule-value-' + index)}`);
  }

  protected remove(index: number): void {
    const rules = this.form().controls.rules;
    rules.removeAt(index);
    rules.markAsDirty();
    // The row and its button are gone: focus goes on to the next row, or to "Add a rule".
    this.focusSoon(index < rules.length ? `#${this.id('rule-value-' + index)}` : `#${this.id('add-rule')}`);
  }

  private focusSoon(selector: string): void {
    afterNextRender(() => this.host.nativeElement.querySelector<HTMLElement>(selector)?.focus(), {
      injector: this.injector,
    });
  }
}
