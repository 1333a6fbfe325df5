import { safeReturnUrl } from './return-url';

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

  it('refuses what is not a string', () => {
    for (const bad of [undefined, null, 42, ['/profile'], { url: '/profile' }]) {
      expect(safeReturnUrl(bad)).toBeNull();
    }
  });
});
