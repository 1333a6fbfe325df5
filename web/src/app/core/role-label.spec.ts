import { RoleLabelPipe, roleLabel } from './role-label';

describe('roleLabel', () => {
  it('names the built-in roles in words, from an authority or a role name', () => {
    expect(roleLabel('ROLE_USER')).toBe('User');
    expect(roleLabel('ROLE_MODERATOR')).toBe('Moderator');
    expect(roleLabel('ROLE_ADMIN')).toBe('Admin');
    expect(roleLabel('admin')).toBe('Admin');
  });

  it('shows a custom role by its name, capitalised, never as ROLE_…', () => {
    expect(roleLabel('ROLE_BILLING')).toBe('Billing');
    expect(roleLabel('ROLE_SUPPORT-DESK')).toBe('Support-desk');
    expect(roleLabel('editor')).toBe('Editor');
  });

  it('the pipe does the same, and an empty value is empty', () => {
    const pipe = new RoleLabelPipe();
    expect(pipe.transform('ROLE_MODERATOR')).toBe('Moderator');
    expect(pipe.transform(null)).toBe('');
  });
});
