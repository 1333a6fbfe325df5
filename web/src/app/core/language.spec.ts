import { chooseLanguage, supported, withoutUiLocales } from './language';

const none = { search: '', cookies: '', preferred: [] as string[] };

describe('the language a page speaks', () => {
  it('knows en, de and es, by their primary tag', () => {
    expect(supported('de-CH')).toBe('de');
    expect(supported('ES_mx')).toBe('es');
    expect(supported('fr')).toBeNull();
    expect(supported(null)).toBeNull();
  });

  it('follows the browser, first language it speaks, else English', () => {
    expect(chooseLanguage({ ...none, preferred: ['fr-FR', 'es-ES', 'de'] })).toBe('es');
    expect(chooseLanguage({ ...none, preferred: ['fr-FR'] })).toBe('en');
    expect(chooseLanguage(none)).toBe('en');
  });

  it('lets the remembered choice beat the browser', () => {
    const cookies = 'portcullis_csrf=x; portcullis_locale=de';
    expect(chooseLanguage({ ...none, cookies, preferred: ['es'] })).toBe('de');
    expect(chooseLanguage({ ...none, cookies: 'portcullis_locale=xx', preferred: ['es'] })).toBe('es');
  });

  it('lets ui_locales beat both, on the page or on the way back to it', () => {
    const cookies = 'portcullis_locale=de';
    expect(chooseLanguage({ search: '?request=r&ui_locales=fr%20es', cookies, preferred: ['en'] })).toBe('es');
    const returnUrl = encodeURIComponent('/oauth/consent?request=r&ui_locales=es');
    expect(chooseLanguage({ search: `?returnUrl=${returnUrl}`, cookies, preferred: [] })).toBe('es');
    expect(chooseLanguage({ search: '?ui_locales=fr', cookies, preferred: [] })).toBe('de');
    const elsewhere = encodeURIComponent('https://evil.example/?ui_locales=es');
    expect(chooseLanguage({ search: `?returnUrl=${elsewhere}`, cookies, preferred: [] })).toBe('de');
  });

  it('drops ui_locales from an address once the user picks, on the page and in its returnUrl', () => {
    expect(withoutUiLocales('https://p.example/oauth/consent?request=r&ui_locales=es')).toBe('https://p.example/oauth/consent?request=r');
    const back = encodeURIComponent('/oauth/consent?request=r&fresh=1&ui_locales=es');
    const login = new URL(withoutUiLocales(`https://p.example/login?returnUrl=${back}`));
    expect(login.searchParams.get('returnUrl')).toBe('/oauth/consent?request=r&fresh=1');
    const plain = 'https://p.example/login?returnUrl=%2Faccount#mfa=x';
    expect(withoutUiLocales(plain)).toBe(plain);
  });
});
