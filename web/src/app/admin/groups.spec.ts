import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';

import { setUpHttp } from '../../testing/http-testing';
import { Groups, MEMBER_PAGE_SIZE } from './groups';
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
const row = (fixture: ComponentFixture<unknown>, group: string) => el(fixture, `tr[data-group="${group}"]`) as HTMLElement;

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

function submit(fixture: ComponentFixture<unknown>, testId: string) {
  (el(fixture, `[data-testid="${testId}"]`) as HTMLFormElement).dispatchEvent(new Event('submit'));
}

const role = (name: string, builtIn = false) => ({ name, description: null, clientId: null, builtIn, permissions: [], users: 0, groups: 0 });
const ROLES = [role('user', true), role('moderator', true), role('admin', true), role('billing')];
const FINANCE = { name: 'finance', description: 'The money people', roles: ['billing'], members: 2 };
const OPS = { name: 'ops', description: null, roles: [], members: 0 };
const MEMBERS = [
  { id: 4, username: 'bob' },
  { id: 7, username: 'carol' },
];
const NO_CONTENT = { status: 204, statusText: 'No Content' };

describe('Groups', () => {
  let http: HttpTestingController;

  beforeEach(() => {
    ({ http } = setUpHttp());
  });

  afterEach(() => http.verify());

  async function render() {
    const fixture = TestBed.createComponent(Groups);
    await fixture.whenStable();
    expect(fixture.nativeElement.textContent).toContain('Loading groups…');
    http.expectOne('/api/admin/groups').flush({ items: [FINANCE, OPS] });
    http.expectOne('/api/admin/roles').flush({ items: ROLES });
    await settle(fixture);
    return fixture;
  }

  /** Opens finance's Members panel, with MEMBERS on its first page. */
  async function openMembers(fixture: ComponentFixture<Groups>) {
    await click(fixture, '[data-testid="group-members-toggle"]', row(fixture, 'finance'));
    const get = http.expectOne((r) => r.url === '/api/admin/groups/finance/members');
    expect(get.request.params.get('page')).toBe('1');
    expect(get.request.params.get('limit')).toBe(String(MEMBER_PAGE_SIZE));
    get.flush({ items: MEMBERS, page: 1, limit: MEMBER_PAGE_SIZE });
    await settle(fixture);
  }

  it('lists the groups with their roles and member counts; offers every role but admin', async () => {
    const fixture = await render();
    expect(texts(fixture, 'group-name')).toEqual(['finance', 'ops']);
    expect(row(fixture, 'finance').querySelector('[data-testid="group-roles"]')?.textContent?.trim()).toBe('Billing');
    expect(row(fixture, 'ops').querySelector('[data-testid="group-roles"]')?.textContent?.trim()).toBe('None');
    expect(row(fixture, 'finance').querySelector('[data-testid="group-members"]')?.textContent?.trim()).toBe('2');
    const offered = Array.from(fixture.nativeElement.querySelectorAll('[data-testid="group-role"]') as NodeListOf<HTMLElement>).map(
      (box) => box.dataset['role'],
    );
    expect(offered).toEqual(['user', 'moderator', 'billing']);
  });

  it('creates a group with the roles ticked', async () => {
    const fixture = await render();
    await type(fixture, '#group-name', 'auditors');
    await click(fixture, '[data-testid="group-role"][data-role="billing"]');
    submit(fixture, 'group-form');
    const post = http.expectOne('/api/admin/groups');
    expect(post.request.method).toBe('POST');
    expect(post.request.body).toEqual({ name: 'auditors', roles: ['billing'] });
    post.flush({ name: 'auditors', description: null, roles: ['billing'], members: 0 }, { status: 201, statusText: 'Created' });
    await settle(fixture);
    expect(texts(fixture, 'group-name')).toEqual(['auditors', 'finance', 'ops']);
    expect(said('groups-notice')).toBe('Group auditors created.');
    expect((el(fixture, '#group-name') as HTMLInputElement).value).toBe('');
  });

  it('a refused group shows the server message', async () => {
    const fixture = await render();
    await type(fixture, '#group-name', 'finance');
    submit(fixture, 'group-form');
    http.expectOne('/api/admin/groups').flush({ message: 'The name is taken.', code: 'name_taken' }, { status: 409, statusText: 'Conflict' });
    await settle(fixture);
    expect(text(fixture, 'group-create-error')).toBe('The name is taken.');
  });

  it("edits a group's description and roles with PATCH", async () => {
    const fixture = await render();
    await click(fixture, '[data-testid="edit-group"]', row(fixture, 'finance'));
    expect((el(fixture, '#edit-group-description') as HTMLInputElement).value).toBe('The money people');
    expect((el(fixture, '[data-testid="edit-group-role"][data-role="billing"]') as HTMLInputElement).checked).toBe(true);
    await click(fixture, '[data-testid="edit-group-role"][data-role="moderator"]');
    await type(fixture, '#edit-group-description', 'Money');
    submit(fixture, 'group-edit-form');
    const patch = http.expectOne('/api/admin/groups/finance');
    expect(patch.request.method).toBe('PATCH');
    expect(patch.request.body).toEqual({ description: 'Money', roles: ['moderator', 'billing'] });
    patch.flush({ ...FINANCE, description: 'Money', roles: ['billing', 'moderator'] });
    await settle(fixture);
    expect(el(fixture, '[data-testid="group-edit-form"]')).toBeNull();
    expect(said('groups-notice')).toBe('Group finance saved: it carries Moderator, Billing.');
  });

  it('deletes after a confirmation, with DELETE', async () => {
    const fixture = await render();
    await click(fixture, '[data-testid="delete-group"]', row(fixture, 'ops'));
    http.expectNone((r) => r.method === 'DELETE');
    expect(row(fixture, 'ops').textContent).toContain('Delete ops? Its members lose what it carries.');
    await click(fixture, '[data-testid="confirm-delete-group"]', row(fixture, 'ops'));
    const del = http.expectOne('/api/admin/groups/ops');
    expect(del.request.method).toBe('DELETE');
    del.flush(null, NO_CONTENT);
    await settle(fixture);
    expect(texts(fixture, 'group-name')).toEqual(['finance']);
  });

  it("lists a group's members and removes one", async () => {
    const fixture = await render();
    await openMembers(fixture);
    expect(text(fixture, 'group-members-panel')).toContain('Members of finance');
    expect(texts(fixture, 'member-name')).toEqual(['bob', 'carol']);
    await click(fixture, '[data-testid="member"][data-username="bob"] [data-testid="remove-member"]');
    const del = http.expectOne('/api/admin/groups/finance/members/4');
    expect(del.request.method).toBe('DELETE');
    del.flush(null, NO_CONTENT);
    http.expectOne('/api/admin/groups').flush({ items: [{ ...FINANCE, members: 1 }, OPS] });
    await settle(fixture);
    expect(texts(fixture, 'member-name')).toEqual(['carol']);
    expect(said('members-notice')).toBe('bob is no longer in finance.');
    expect(row(fixture, 'finance').querySelector('[data-testid="group-members"]')?.textContent?.trim()).toBe('1');
  });

  it('adds a member found by username: the search lists users, Add puts one in with PUT', async () => {
    const fixture = await render();
    await openMembers(fixture);
    await type(fixture, '#member-search', 'a');
    submit(fixture, 'member-search-form');
    const search = http.expectOne((r) => r.url === '/api/admin/users');
    expect(search.request.params.get('query')).toBe('a');
    search.flush({
      items: [
        { id: 9, username: 'dave', email: 'dave@example.com' },
        { id: 7, username: 'carol', email: 'carol@example.com' },
      ],
      total: 2,
      page: 1,
      limit: 5,
    });
    await settle(fixture);
    expect(texts(fixture, 'member-candidate').map((t) => t?.split(' ')[0])).toEqual(['dave', 'carol']);
    // carol is a member already: no Add for her.
    expect(el(fixture, '[data-testid="member-candidate"][data-username="carol"] [data-testid="add-member"]')).toBeNull();
    await click(fixture, '[data-testid="member-candidate"][data-username="dave"] [data-testid="add-member"]');
    const put = http.expectOne('/api/admin/groups/finance/members/9');
    expect(put.request.method).toBe('PUT');
    put.flush(null, NO_CONTENT);
    http.expectOne((r) => r.url === '/api/admin/groups/finance/members').flush({ items: [...MEMBERS, { id: 9, username: 'dave' }], page: 1, limit: 20 });
    http.expectOne('/api/admin/groups').flush({ items: [{ ...FINANCE, members: 3 }, OPS] });
    await settle(fixture);
    expect(said('members-notice')).toBe('dave is in finance.');
    expect(texts(fixture, 'member-name')).toEqual(['bob', 'carol', 'dave']);
    expect(
      Array.from(fixture.nativeElement.querySelectorAll('[data-testid="remove-member"]') as NodeListOf<HTMLButtonElement>).map((b) => b.disabled),
    ).toEqual([false, false, false]);
    expect(el(fixture, '[data-testid="member-candidates"]')).toBeNull();
  });

  it('adds a member by user id at once; an unknown one shows the server message', async () => {
    const fixture = await render();
    await openMembers(fixture);
    await type(fixture, '#member-search', '42');
    submit(fixture, 'member-search-form');
    http.expectNone((r) => r.url === '/api/admin/users');
    const put = http.expectOne('/api/admin/groups/finance/members/42');
    expect(put.request.method).toBe('PUT');
    put.flush({ message: 'Not found.', code: 'not_found' }, { status: 404, statusText: 'Not Found' });
    await settle(fixture);
    expect(text(fixture, 'members-error')).toBe('User 42: Not found.');
  });
});
