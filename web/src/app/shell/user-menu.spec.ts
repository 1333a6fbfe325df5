import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';

import { AuthService } from '../core/auth.service';
import { ALICE, setUpHttp } from '../../testing/http-testing';
import { UserMenu } from './user-menu';

const el = (fixture: ComponentFixture<unknown>, selector: string) =>
  fixture.nativeElement.querySelector(selector) as HTMLElement | null;
const testIds = (fixture: ComponentFixture<unknown>) =>
  Array.from(fixture.nativeElement.querySelectorAll('[data-testid^="menu-"]') as NodeListOf<HTMLElement>).map(
    (e) => e.dataset['testid'],
  );

describe('UserMenu', () => {
  let http: HttpTestingController;
  let auth: AuthService;

  beforeEach(() => {
    ({ http } = setUpHttp());
    auth = TestBed.inject(AuthService);
  });

  afterEach(() => http.verify());

  async function signInAs(user: object) {
    const loading = auth.load();
    http.expectOne('/api/auth/me').flush({ ...ALICE, ...user });
    await loading;
  }

  async function render() {
    const fixture = TestBed.createComponent(UserMenu);
    document.body.appendChild(fixture.nativeElement);
    await fixture.whenStable();
    return fixture;
  }

  async function openMenu(fixture: ComponentFixture<UserMenu>) {
    el(fixture, '[data-testid="user-menu-button"]')!.click();
    await fixture.whenStable();
  }

  it('signed out: Sign in and Sign up, no menu', async () => {
    const fixture = await render();
    expect(el(fixture, '[data-testid="nav-sign-in"]')?.getAttribute('href')).toBe('/login');
    expect(el(fixture, '[data-testid="nav-sign-up"]')?.getAttribute('href')).toBe('/register');
    expect(el(fixture, '[data-testid="user-menu-button"]')).toBeNull();
  });

  it('signed in: the username on a closed button; opening shows Account, Demo and Sign out', async () => {
    await signInAs({});
    const fixture = await render();
    const button = el(fixture, '[data-testid="user-menu-button"]')!;
    expect(el(fixture, '[data-testid="nav-profile"]')?.textContent?.trim()).toBe('alice');
    expect(button.getAttribute('aria-expanded')).toBe('false');
    expect(el(fixture, '#user-menu')?.classList).not.toContain('show');
    await openMenu(fixture);
    expect(button.getAttribute('aria-expanded')).toBe('true');
    expect(el(fixture, '#user-menu')?.classList).toContain('show');
    expect(testIds(fixture)).toEqual(['menu-account', 'menu-demo', 'menu-signout']);
    expect(el(fixture, '[data-testid="menu-account"]')?.getAttribute('href')).toBe('/account');
    expect(el(fixture, '[data-testid="menu-demo"]')?.getAttribute('href')).toBe('/demo');
  });

  it('an admin also gets the admin console; a manager (whose pages are still admins’) does not', async () => {
    await signInAs({ roles: ['ROLE_USER', 'ROLE_ADMIN'] });
    let fixture = await render();
    await openMenu(fixture);
    expect(testIds(fixture)).toEqual(['menu-account', 'menu-admin', 'menu-demo', 'menu-signout']);
    expect(el(fixture, '[data-testid="menu-admin"]')?.getAttribute('href')).toBe('/admin');
    fixture.destroy();

    await signInAs({ roles: ['ROLE_SUPPORT'], permissions: ['portcullis:users:manage'] });
    fixture = await render();
    await openMenu(fixture);
    expect(testIds(fixture)).not.toContain('menu-admin');
    fixture.destroy();

    await signInAs({ roles: ['ROLE_BILLING'], permissions: ['invoices:read'] });
    fixture = await render();
    await openMenu(fixture);
    expect(testIds(fixture)).not.toContain('menu-admin');
  });

  it('Escape closes it and gives the focus back to the button', async () => {
    await signInAs({});
    const fixture = await render();
    await openMenu(fixture);
    const account = el(fixture, '[data-testid="menu-account"]')!;
    account.focus();
    account.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    await fixture.whenStable();
    expect(el(fixture, '#user-menu')?.classList).not.toContain('show');
    expect(document.activeElement).toBe(el(fixture, '[data-testid="user-menu-button"]'));
  });

  it('a click elsewhere closes it; a click inside does not', async () => {
    await signInAs({});
    const fixture = await render();
    await openMenu(fixture);
    el(fixture, '.dropdown-item-text')!.click();
    await fixture.whenStable();
    expect(el(fixture, '#user-menu')?.classList).toContain('show');
    document.body.click();
    await fixture.whenStable();
    expect(el(fixture, '#user-menu')?.classList).not.toContain('show');
  });

  it('the arrow keys move between the items, wrapping around', async () => {
    await signInAs({});
    const fixture = await render();
    await openMenu(fixture);
    const items = ['menu-account', 'menu-demo', 'menu-signout'].map((id) => el(fixture, `[data-testid="${id}"]`)!);
    items[0].focus();
    items[0].dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }));
    expect(document.activeElement).toBe(items[1]);
    items[1].dispatchEvent(new KeyboardEvent('keydown', { key: 'End', bubbles: true }));
    expect(document.activeElement).toBe(items[2]);
    items[2].dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }));
    expect(document.activeElement).toBe(items[0]);
  });
});
