import { roleLabel, roleLabels } from './role-label';

describe('roleLabel', () => {
  it('says a role by its name, capitalised, whether given a name or an authority', () => {
    expect(roleLabel('user')).toBe('User');
    expect(roleLabel('billing')).toBe('Billing');
    expect(roleLabel('ROLE_MODERATOR')).toBe('Moderator');
    expect(roleLabel('ROLE_NOTES-EDITOR')).toBe('Notes-editor');
    expect(roleLabel('notesAdmin')).toBe('NotesAdmin');
    expect(roleLabels(['ROLE_USER', 'admin'])).toBe('User, Admin');
    // Built-in roles first, by rank; then the others by name.
    expect(roleLabels(['moderator', 'billing', 'user', 'Audit'])).toBe('User, Moderator, Audit, Billing');
  });
});
