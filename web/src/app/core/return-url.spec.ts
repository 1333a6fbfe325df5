import { Component } from '@angular/core';

import { routes } from '../app.routes';
import { routedInApp, safeReturnUrl } from './return-url';

@Component({ template: '' })
class Dummy {}

describe('safeReturnUrl', () => {
  it('takes a path of this app, with its query and fragment', () => {
    for (const good of [
      '/profile',
      '/admin/users',
      '/oauth/consent?request=abc_DEF-123&fresh=1',
      '/oauth/consent?request=a%2Fb',
      '/home#top',
      '/',
    ]) {
      expect(safeReturnUrl(good), good).toBe(good);
    }
  });

  it('refuses another site, a scheme, or anything that is not a single-slash path', () => {
    for (const bad of [
      '//evil.example',
      '//evil.example/profile',
      '///evil.example',
      '/\\evil.example',
      '\\\\evil.example',
      '\\/evil.example',
      'https://evil.example/',
      'http:evil.example',
      'javascript:alert(1)',
      'JavaScript:alert(1)',
      'data:text/html,hi',
      'profile',
      './profile',
      '',
      ' /profile',
      '/\t/evil.example',
      '/\n/evil.example',
      '/pro file',
      '/' + 'a'.repeat(2048),
    ]) {
      expect(safeReturnUrl(bad), JSON.stringify(bad)).toBeNull();
    }
  });

  it("refuses the server's own routes, however they are written", () => {
    for (const route of [
      '/api/oauth/logout?id_token_hint=x',
      '/api/auth/resume?returnUrl=/app/',
      '/%61pi/oauth/logout',
      '/API/oauth/authorize',
      '/.well-known/openid-configuration',
      '/health/ready',
      '/api',
    ]) {
      expect(safeReturnUrl(route), route).toBeNull();
    }
    expect(safeReturnUrl('/apis/mine')).toBe('/apis/mine');
    expect(safeReturnUrl('/app/?a=1')).toBe('/app/?a=1');
  });

  it('refuses what is not a string', () => {
    for (const bad of [undefined, null, 42, ['/profile'], { url: '/profile' }]) {
      expect(safeReturnUrl(bad)).toBeNull();
    }
  });
});

describe('routedInApp', () => {
  it("knows the web app's own pages, whatever their query or fragment", () => {
    for (const own of ['/', '/home', '/profile', '/profile?x=1#y', '/admin/users', '/oauth/consent?request=a', '/prof%69le']) {
      expect(routedInApp(own, routes), own).toBe(true);
    }
  });

  it('leaves other paths of this host (an app behind forward authentication) to a full page load', () => {
    for (const other of ['/app/', '/app/admin/', '/backend/x?y=1', '/admin/elsewhere', '/profile/more', '/api/docs']) {
      expect(routedInApp(other, routes), other).toBe(false);
    }
  });

  it('matches parameters, nested children and lazily loaded ones; never the catch-all', () => {
    const config = [
      { path: 'items/:id', component: Dummy },
      { path: 'area', children: [{ path: 'inner', component: Dummy }] },
      { path: 'lazy', loadChildren: () => Promise.resolve([]) },
      { path: '**', redirectTo: '' },
    ];
    expect(routedInApp('/items/42', config)).toBe(true);
    expect(routedInApp('/items/42/more', config)).toBe(false);
    expect(routedInApp('/area/inner', config)).toBe(true);
    expect(routedInApp('/area/outer', config)).toBe(false);
    expect(routedInApp('/lazy/anything', config)).toBe(true);
    expect(routedInApp('/nothing', config)).toBe(false);
  });
});
