import { AbstractControl, ValidationErrors, ValidatorFn, Validators } from '@angular/forms';

import { Policy } from './api.models';

/**
 * The password rules of the server's `GET /api/auth/policy`, as form validators: required,
 * the policy's length limits and, if the policy sends one, its pattern. Sign-up and the
 * password change and the reset page all use these, so the forms cannot drift apart.
 */
export function passwordValidators(policy: Pick<Policy, 'password'>): ValidatorFn[] {
  const { minLength, maxLength, pattern } = policy.password;
  return [
    Validators.required,
    Validators.minLength(minLength),
    Validators.maxLength(maxLength),
    ...(pattern ? [Validators.pattern(new RegExp(pattern))] : []),
  ];
}

/**
 * The message for a control's password rule error other than `required` (which each form
 * words itself), or '' if there is none. The limits come from the errors themselves.
 */
export function passwordRuleError(control: AbstractControl): string {
  const min = control.getError('minlength') as { requiredLength: number } | null;
  if (min) return $localize`:@@core.password.tooShort:Password must be at least ${min.requiredLength}:minLength: characters.`;
  const max = control.getError('maxlength') as { requiredLength: number } | null;
  if (max) return $localize`:@@core.password.tooLong:Password must be at most ${max.requiredLength}:maxLength: characters.`;
  if (control.hasError('pattern')) return $localize`:@@core.password.pattern:Password does not meet the server's rules.`;
  return '';
}

/**
 * A form group's check that its `newPassword` and `confirm` controls match (`mismatch`);
 * quiet until something is typed in `confirm`. The password change and the reset page use it.
 */
export function sameNewPassword(group: AbstractControl): ValidationErrors | null {
  const value = group.value as { newPassword?: string; confirm?: string };
  return value.confirm && value.newPassword !== value.confirm ? { mismatch: true } : null;
}
