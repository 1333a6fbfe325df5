import { TestBed } from '@angular/core/testing';

import { ExternalNavigation, isNavigable } from './external-navigation';

describe('ExternalNavigation', () => {
  it('goes to web addresses and native apps, never to a script, data or a file', () => {
    for (const good of ['https://notes.example/cb?code=a&state=b', 'http://127.0.0.1:9000/cb', 'com.example.app:/oauth?code=a']) {
      expect(isNavigable(good), good).toBe(true);
    }
    for (const bad of ['javascript:alert(1)', ' JavaScript:alert(1)', 'data:text/html,hi', 'vbscript:x', 'file:///etc/passwd', 'blob:https://x/y']) {
      expect(isNavigable(bad), bad).toBe(false);
    }
  });

  it('refuses, without navigating, an address it will not go to', () => {
    const navigation = TestBed.inject(ExternalNavigation);
    expect(navigation.assign('javascript:alert(1)')).toBe(false);
  });
});
