import { TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';

import { AuthService } from '../core/auth.service';
import { ALICE, setUpHttp } from '../../testing/http-testing';
import { LanguagePicker } from './language-picker';

describe('LanguagePicker', () => {
  let http: HttpTestingController;

  beforeEach(() => {
    ({ http } = setUpHttp());
    document.documentElement.lang = 'en';
    document.cookie = 'portcullis_locale=; Path=/; Max-Age=0';
  });

  afterEach(() => {
    http.verify();
    document.cookie = 'portcullis_locale=; Path=/; Max-Age=0';
  });

  async function render() {
    const fixture = TestBed.createComponent(LanguagePicker);
    await fixture.whenStable();
    const reload = vi.spyOn(fixture.componentInstance as unknown as { reopen(href: string): void }, 'reopen').mockImplementation(() => {});
    const select = fixture.nativeElement.querySelector('select') as HTMLSelectElement;
    return { fixture, reload, select };
  }

  it('offers each language in its own words, the current one chosen', async () => {
    const { select } = await render();
    expect(Array.from(select.options).map((o) => [o.value, o.textContent?.trim(), o.lang])).toEqual([
      ['en', 'English', 'en'],
      ['de', 'Deutsch', 'de'],
      ['es', 'Español', 'es'],
    ]);
    expect(select.value).toBe('en');
  });

  it('signed out: remembers the choice in this browser and reloads', async () => {
    const { fixture, reload } = await render();
    await fixture.componentInstance.choose('de');
    expect(document.cookie).toContain('portcullis_locale=de');
    expect(reload).toHaveBeenCalledExactlyOnceWith(location.href);
  });

  it('signed in: also keeps it with the account, and reloads even if that fails', async () => {
    const auth = TestBed.inject(AuthService);
    const loading = auth.load();
    http.expectOne('/api/auth/me').flush(ALICE);
    await loading;
    const { fixture, reload } = await render();
    const choosing = fixture.componentInstance.choose('es');
    const put = http.expectOne('/api/auth/locale');
    expect(put.request.method).toBe('PUT');
    expect(put.request.body).toEqual({ locale: 'es' });
    put.flush({ code: 'unavailable', message: 'down' }, { status: 503, statusText: 'Service Unavailable' });
    await choosing;
    expect(document.cookie).toContain('portcullis_locale=es');
    expect(reload).toHaveBeenCalledTimes(1);
  });

  it('ignores the current language and anything it does not speak', async () => {
    const { fixture, reload } = await render();
    await fixture.componentInstance.choose('en');
    await fixture.componentInstance.choose('fr');
    expect(reload).not.toHaveBeenCalled();
    expect(document.cookie).not.toContain('portcullis_locale');
  });
});
