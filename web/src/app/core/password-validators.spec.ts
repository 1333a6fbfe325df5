import { FormControl, FormGroup } from '@angular/forms';

import { Policy } from './api.models';
import { passwordRuleError, passwordValidators, sameNewPassword } from './password-validators';

/** Sign-up and the password change share these; the limits are the server's, not the app's. */
describe('passwordValidators', () => {
  const policy = (password: Policy['password']): Pick<Policy, 'password'> => ({ password });

  function control(value: string, password: Policy['password']): FormControl<string> {
    return new FormControl(value, { nonNullable: true, validators: passwordValidators(policy(password)) });
  }

  it('requires a password', () => {
    const c = control('', { minLength: 8, maxLength: 128 });
    expect(c.hasError('required')).toBe(true);
  });

  it("applies the policy's length limits, inclusive", () => {
    const rule = { minLength: 12, maxLength: 16 };
    expect(control('elevenchars', rule).hasError('minlength')).toBe(true);
    expect(control('twelve chars', rule).valid).toBe(true);
    expect(control('sixteen chars!!!', rule).valid).toBe(true);
    expect(control('seventeen chars!!', rule).hasError('maxlength')).toBe(true);
  });

  it('follows a different policy without code changes', () => {
    expect(control('abcd', { minLength: 4, maxLength: 6 }).valid).toBe(true);
    expect(control('abcd', { minLength: 5, maxLength: 6 }).valid).toBe(false);
  });

  it('applies a pattern only when the policy sends one', () => {
    expect(control('no digits here', { minLength: 1, maxLength: 64, pattern: '^.*\\d.*$' }).hasError('pattern')).toBe(true);
    expect(control('has 1 digit', { minLength: 1, maxLength: 64, pattern: '^.*\\d.*$' }).valid).toBe(true);
    expect(control('no digits here', { minLength: 1, maxLength: 64, pattern: null }).valid).toBe(true);
    expect(passwordValidators(policy({ minLength: 8, maxLength: 128 }))).toHaveLength(3);
  });
});

describe('passwordRuleError', () => {
  const rule = { minLength: 12, maxLength: 16 };
  const error = (value: string) =>
    passwordRuleError(new FormControl(value, { nonNullable: true, validators: passwordValidators({ password: rule }) }));

  it('words the length errors with the limits the server sent', () => {
    expect(error('short')).toBe('Password must be at least 12 characters.');
    expect(error('x'.repeat(17))).toBe('Password must be at most 16 characters.');
  });

  it('leaves "required" to the form and says nothing for a valid password', () => {
    expect(error('')).toBe('');
    expect(error('a fine password')).toBe('');
  });
});

/** The password change and the reset page: the repeat must match, quiet until it is typed. */
describe('sameNewPassword', () => {
  const group = (newPassword: string, confirm: string) =>
    new FormGroup(
      { newPassword: new FormControl(newPassword), confirm: new FormControl(confirm) },
      { validators: sameNewPassword },
    );

  it('reports a mismatch once the repeat is typed, and nothing before', () => {
    expect(group('a long password', '').hasError('mismatch')).toBe(false);
    expect(group('a long password', 'a long passwore').hasError('mismatch')).toBe(true);
    expect(group('a long password', 'a long password').valid).toBe(true);
  });
});
