import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';

import { setUpHttp } from '../../testing/http-testing';
import { PERMISSION_NAME, RIGHTS_NAME, Roles, optional, toggled } from './roles';
import { said } from './notices.testing';

async function settle(fixture: ComponentFixture<unknown>) {
  for (let i = 0; i < 3; i++) {
    await new Promise((done) => setTimeout(done));
    await fixture.whenStable();
  }
}

const el = (fixture: ComponentFixture<unknown>, selector: string) =>
  fixture.nativeElement.querySelector(selector) as HTMLElement | null;
const text = (fixture: ComponentFixture<unknown>, testId: string) =>
  el(fixture, `[data-testid="${testId}"]`)?.textContent?.trim().replace(/\s+/g, ' ');
const texts = (fixture: ComponentFixture<unknown>, testId: string) =>
  Array.from(fixture.nativeElement.querySelectorAll(`[data-testid="${testId}"]`) as NodeListOf<HTMLElement>).map((e) =>
    e.textContent?.trim().replace(/\s+/g, ' '),
  );
const row = (fixture: ComponentFixture<unknown>, role: string) => el(fixture, `tr[data-role="${role}"]`) as HTMLElement;
const permissionRow = (fixture: ComponentFixture<unknown>, name: string) =>
  el(fixture, `tr[data-permission="${name}"]`) as HTMLElement;

async function type(fixture: ComponentFixture<unknown>, selector: string, value: string) {
  const input = el(fixture, selector) as HTMLInputElement;
  expect(input).not.toBeNull();
  input.value = value;
  input.dispatchEvent(new Event('input'));
  await fixture.whenStable();
}

async function click(fixture: ComponentFixture<unknown>, selector: string, within?: HTMLElement) {
  const button = ((within ?? fixture.nativeElement) as HTMLElement).querySelector(selector) as HTMLElement;
  expect(button).not.toBeNull();
  button.click();
  await settle(fixture);
}

const builtIn = (name: string, users: number) => ({
  name,
  description: null,
  clientId: null,
  builtIn: true,
  permissions: [],
  users,
  groups: 0,
});
const EDITOR = {
  name: 'editor',
  description: 'Edits pages',
  clientId: null,
  builtIn: false,
  permissions: ['pages:edit'],
  users: 2,
  groups: 1,
};
const NOTES_EDITOR = { ...EDITOR, name: 'notes-editor', description: null, clientId: 'c_notes', permissions: [], users: 0, groups: 0 };
const ROLES = [builtIn('user', 5), builtIn('moderator', 1), builtIn('admin', 1), EDITOR, NOTES_EDITOR];
const PAGES_EDIT = { name: 'pages:edit', description: null, builtIn: false, roles: ['editor'] };
const MANAGE = { name: 'portcullis:users:manage', description: 'Manage users', builtIn: true, roles: [] };
const PERMISSIONS = [PAGES_EDIT, MANAGE];
const IN_USE = { message: 'The role is held by 2 accounts and 1 group.', code: 'in_use' };
const CONFLICT = { status: 409, statusText: 'Conflict' };

describe('Roles helpers', () => {
  it('names', () => {
    expect(RIGHTS_NAME.test('billing')).toBe(true);
    expect(RIGHTS_NAME.test('ab')).toBe(false);
    expect(RIGHTS_NAME.test('with space')).toBe(false);
    expect(PERMISSION_NAME.test('invoices:write')).toBe(true);
    expect(PERMISSION_NAME.test('Invoices')).toBe(false);
    expect(PERMISSION_NAME.test(':write')).toBe(false);
  });

  it('optional and toggled', () => {
    expect(optional('  ')).toBeNull();
    expect(optional(' Edits ')).toBe('Edits');
    expect([...toggled(new Set(['a']), 'b', true)]).toEqual(['a', 'b']);
    expect([...toggled(new Set(['a', 'b']), 'a', false)]).toEqual(['b']);
  });
});

describe('Roles', () => {
  let http: HttpTestingController;

  beforeEach(() => {
    ({ http } = setUpHttp());
  });

  afterEach(() => http.verify());

  async function render() {
    const fixture = TestBed.createComponent(Roles);
    await fixture.whenStable();
    expect(fixture.nativeElement.textContent).toContain('Loading roles…');
    http.expectOne('/api/admin/roles').flush({ items: ROLES });
    http.expectOne('/api/admin/permissions').flush({ items: PERMISSIONS });
    await settle(fixture);
    return fixture;
  }

  /** The lists asked for again after a change (the permissions' roles follow the roles). */
  function reloaded(which: 'roles' | 'permissions', items: object[]) {
    http.expectOne(`/api/admin/${which}`).flush({ items });
  }

  it('lists the roles (built-in marked, application roles, permissions, holders) and the permissions', async () => {
    const fixture = await render();
    // Roles read as names, capitalised; the rows keep the API's names.
    expect(texts(fixture, 'role-name')).toEqual(['User', 'Moderator', 'Admin', 'Editor', 'Notes-editor']);
    expect(row(fixture, 'user').querySelector('[data-testid="role-built-in"]')?.textContent?.trim()).toBe('Built-in');
    expect(row(fixture, 'editor').querySelector('[data-testid="role-built-in"]')).toBeNull();
    expect(row(fixture, 'notes-editor').querySelector('[data-testid="role-client"]')?.textContent).toBe('c_notes');
    expect(row(fixture, 'editor').querySelector('[data-testid="role-permissions"]')?.textContent?.trim()).toBe('pages:edit');
    expect(row(fixture, 'editor').querySelector('[data-testid="role-holders"]')?.textContent?.replace(/\s+/g, ' ').trim()).toBe('2 accounts · 1 group');
    expect(row(fixture, 'moderator').querySelector('[data-testid="role-holders"]')?.textContent?.replace(/\s+/g, ' ').trim()).toBe('1 account · 0 groups');
    // Built-in roles are edited, never deleted.
    expect(row(fixture, 'admin').querySelector('[data-testid="delete-role"]')).toBeNull();
    expect(row(fixture, 'admin').querySelector('[data-testid="edit-role"]')).not.toBeNull();

    expect(texts(fixture, 'permission-name')).toEqual(['pages:edit', 'portcullis:users:manage']);
    expect(permissionRow(fixture, 'pages:edit').querySelector('[data-testid="permission-roles"]')?.textContent?.trim()).toBe('Editor');
    expect(permissionRow(fixture, 'portcullis:users:manage').querySelector('[data-testid="delete-permission"]')).toBeNull();
    expect(el(fixture, 'h2#roles-heading')?.textContent).toBe('Roles');
    expect(el(fixture, 'h2#permissions-heading')?.textContent).toBe('Permissions');
  });

  it('creates a role with a description, a client and the permissions ticked', async () => {
    const fixture = await render();
    await type(fixture, '#role-name', 'notes-admin');
    await type(fixture, '#role-description', ' Runs the notes ');
    await type(fixture, '#role-client', 'c_notes');
    await click(fixture, '[data-testid="role-permission"][data-permission="pages:edit"]');
    (el(fixture, '[data-testid="role-form"]') as HTMLFormElement).dispatchEvent(new Event('submit'));
    const post = http.expectOne('/api/admin/roles');
    expect(post.request.method).toBe('POST');
    expect(post.request.body).toEqual({ name: 'notes-admin', description: 'Runs the notes', clientId: 'c_notes', permissions: ['pages:edit'] });
    post.flush({ ...EDITOR, name: 'notes-admin', description: 'Runs the notes', clientId: 'c_notes', users: 0, groups: 0 }, { status: 201, statusText: 'Created' });
    reloaded('permissions', [{ ...PAGES_EDIT, roles: ['editor', 'notes-admin'] }, MANAGE]);
    await settle(fixture);
    expect(texts(fixture, 'role-name')).toContain('Notes-admin');
    expect(said('roles-notice')).toBe('Role Notes-admin created.');
    expect(permissionRow(fixture, 'pages:edit').querySelector('[data-testid="permission-roles"]')?.textContent?.trim()).toBe('Editor, Notes-admin');
    expect((el(fixture, '#role-name') as HTMLInputElement).value).toBe('');
    expect((el(fixture, '[data-testid="role-permission"]') as HTMLInputElement).checked).toBe(false);
  });

  it('a malformed name is not sent; the server’s refusal is shown', async () => {
    const fixture = await render();
    await type(fixture, '#role-name', 'x');
    (el(fixture, '[data-testid="role-form"]') as HTMLFormElement).dispatchEvent(new Event('submit'));
    await settle(fixture);
    http.expectNone('/api/admin/roles');
    expect((el(fixture, '#role-name') as HTMLInputElement).classList).toContain('is-invalid');

    await type(fixture, '#role-name', 'Editor');
    (el(fixture, '[data-testid="role-form"]') as HTMLFormElement).dispatchEvent(new Event('submit'));
    http.expectOne('/api/admin/roles').flush({ message: 'The name is taken.', code: 'name_taken' }, CONFLICT);
    await settle(fixture);
    expect(text(fixture, 'role-create-error')).toBe('The name is taken.');
  });

  it("edits a role's description and permissions with PATCH", async () => {
    const fixture = await render();
    await click(fixture, '[data-testid="edit-role"]', row(fixture, 'editor'));
    expect(row(fixture, 'editor').querySelector('[data-testid="edit-role"]')?.getAttribute('aria-expanded')).toBe('true');
    expect((el(fixture, '#edit-role-description') as HTMLInputElement).value).toBe('Edits pages');
    const box = (name: string) => el(fixture, `[data-testid="edit-role-permission"][data-permission="${name}"]`) as HTMLInputElement;
    expect(box('pages:edit').checked).toBe(true);
    expect(box('portcullis:users:manage').checked).toBe(false);
    await click(fixture, '[data-testid="edit-role-permission"][data-permission="pages:edit"]');
    await click(fixture, '[data-testid="edit-role-permission"][data-permission="portcullis:users:manage"]');
    await type(fixture, '#edit-role-description', '');
    (el(fixture, '[data-testid="role-edit-form"]') as HTMLFormElement).dispatchEvent(new Event('submit'));
    const patch = http.expectOne('/api/admin/roles/editor');
    expect(patch.request.method).toBe('PATCH');
    expect(patch.request.body).toEqual({ description: null, permissions: ['portcullis:users:manage'] });
    patch.flush({ ...EDITOR, description: null, permissions: ['portcullis:users:manage'] });
    reloaded('permissions', [{ ...PAGES_EDIT, roles: [] }, { ...MANAGE, roles: ['editor'] }]);
    await settle(fixture);
    expect(el(fixture, '[data-testid="role-edit-form"]')).toBeNull();
    expect(row(fixture, 'editor').querySelector('[data-testid="role-permissions"]')?.textContent?.trim()).toBe('portcullis:users:manage');
    expect(said('roles-notice')).toBe('Role Editor saved: it gives portcullis:users:manage.');
  });

  it('deletes after a confirmation; while held (409 in_use) it offers to delete anyway, with cascade=true', async () => {
    const fixture = await render();
    await click(fixture, '[data-testid="delete-role"]', row(fixture, 'editor'));
    http.expectNone((r) => r.method === 'DELETE');
    await click(fixture, '[data-testid="confirm-delete-role"]', row(fixture, 'editor'));
    const first = http.expectOne((r) => r.url === '/api/admin/roles/editor');
    expect(first.request.method).toBe('DELETE');
    expect(first.request.params.has('cascade')).toBe(false);
    first.flush(IN_USE, CONFLICT);
    await settle(fixture);
    expect(text(fixture, 'roles-error')).toContain('Editor: The role is held by 2 accounts and 1 group.');
    expect(text(fixture, 'roles-error')).toContain('Delete Editor anyway? Every account and group that holds it loses it.');
    expect(texts(fixture, 'role-name')).toContain('Editor');

    await click(fixture, '[data-testid="delete-role-cascade"]');
    const again = http.expectOne((r) => r.url === '/api/admin/roles/editor');
    expect(again.request.method).toBe('DELETE');
    expect(again.request.params.get('cascade')).toBe('true');
    again.flush(null, { status: 204, statusText: 'No Content' });
    reloaded('permissions', [{ ...PAGES_EDIT, roles: [] }, MANAGE]);
    await settle(fixture);
    expect(texts(fixture, 'role-name')).not.toContain('Editor');
    expect(said('roles-notice')).toBe('Role Editor deleted.');
    expect(el(fixture, '[data-testid="roles-error"]')).toBeNull();
  });

  it('creates a permission; it can then be given by a new role', async () => {
    const fixture = await render();
    await type(fixture, '#permission-name', 'invoices:write');
    await type(fixture, '#permission-description', 'Write invoices');
    (el(fixture, '[data-testid="permission-form"]') as HTMLFormElement).dispatchEvent(new Event('submit'));
    const post = http.expectOne('/api/admin/permissions');
    expect(post.request.method).toBe('POST');
    expect(post.request.body).toEqual({ name: 'invoices:write', description: 'Write invoices' });
    post.flush({ name: 'invoices:write', description: 'Write invoices', builtIn: false, roles: [] }, { status: 201, statusText: 'Created' });
    await settle(fixture);
    expect(texts(fixture, 'permission-name')).toEqual(['invoices:write', 'pages:edit', 'portcullis:users:manage']);
    expect(said('permissions-notice')).toBe('Permission invoices:write created.');
    expect(el(fixture, '[data-testid="role-permission"][data-permission="invoices:write"]')).not.toBeNull();
  });

  it('deletes a permission; while a role gives it, delete anyway takes it from the roles too', async () => {
    const fixture = await render();
    await click(fixture, '[data-testid="delete-permission"]', permissionRow(fixture, 'pages:edit'));
    await click(fixture, '[data-testid="confirm-delete-permission"]', permissionRow(fixture, 'pages:edit'));
    const first = http.expectOne((r) => r.url === '/api/admin/permissions/pages%3Aedit');
    expect(first.request.method).toBe('DELETE');
    expect(first.request.params.has('cascade')).toBe(false);
    first.flush({ message: 'A role gives it.', code: 'in_use' }, CONFLICT);
    await settle(fixture);
    expect(text(fixture, 'permissions-error')).toContain('pages:edit: A role gives it.');
    await click(fixture, '[data-testid="delete-permission-cascade"]');
    const again = http.expectOne((r) => r.url === '/api/admin/permissions/pages%3Aedit');
    expect(again.request.params.get('cascade')).toBe('true');
    again.flush(null, { status: 204, statusText: 'No Content' });
    reloaded('roles', ROLES.map((r) => (r.name === 'editor' ? { ...EDITOR, permissions: [] } : r)));
    await settle(fixture);
    expect(texts(fixture, 'permission-name')).toEqual(['portcullis:users:manage']);
    expect(row(fixture, 'editor').querySelector('[data-testid="role-permissions"]')?.textContent?.trim()).toBe('None');
  });
});
