/**
 * Which language the web app speaks (issue 27). It is chosen once, before the app starts, in
 * this order: the OpenID Connect `ui_locales` the page was opened with (also inside a
 * `returnUrl`, so the sign-in on the way to consent speaks it too); the user's own choice,
 * remembered in the `portcullis_locale` cookie (the server reads the same cookie for mails);
 * the browser's languages; English. Changing it reloads the page, because every text is
 * translated as its component is made.
 */
export const LANGUAGES = ['en', 'de', 'es'] as const;
export type Language = (typeof LANGUAGES)[number];

export const LANGUAGE_COOKIE = 'portcullis_locale';

/** Each language in its own words: a picker is read by someone who may not know the current one. */
export const LANGUAGE_NAMES: Readonly<Record<Language, string>> = {
  en: 'English',
  de: 'Deutsch',
  es: 'Español',
};

/** `de-CH` → `de`; a language this app does not speak → null. */
export function supported(tag: string | null | undefined): Language | null {
  const primary = (tag ?? '').trim().toLowerCase().split(/[-_]/)[0];
  return (LANGUAGES as readonly string[]).includes(primary) ? (primary as Language) : null;
}

/** The first language of a space-separated `ui_locales` that this app speaks. */
function fromUiLocales(value: string | null): Language | null {
  for (const tag of (value ?? '').split(' ')) {
    const language = supported(tag);
    if (language) {
      return language;
    }
  }
  return null;
}

function uiLocalesOf(search: string): Language | null {
  const params = new URLSearchParams(search);
  const own = fromUiLocales(params.get('ui_locales'));
  if (own) {
    return own;
  }
  const returnUrl = params.get('returnUrl');
  if (returnUrl?.startsWith('/')) {
    return fromUiLocales(new URL(returnUrl, 'http://portcullis.invalid').searchParams.get('ui_locales'));
  }
  return null;
}

function cookieValue(cookies: string, name: string): string | null {
  for (const part of cookies.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) {
      return decodeURIComponent(rest.join('='));
    }
  }
  return null;
}

export interface LanguageSources {
  /** `location.search`. */
  search: string;
  /** `document.cookie`. */
  cookies: string;
  /** `navigator.languages`, best first. */
  preferred: readonly string[];
}

export function chooseLanguage(sources: LanguageSources): Language {
  return (
    uiLocalesOf(sources.search) ??
    supported(cookieValue(sources.cookies, LANGUAGE_COOKIE)) ??
    sources.preferred.map(supported).find((l): l is Language => l !== null) ??
    'en'
  );
}

/** The language this page was started in (main.ts sets `<html lang>`). */
export function currentLanguage(): Language {
  return supported(document.documentElement.lang) ?? 'en';
}

/**
 * `href` without `ui_locales`, on the page itself or in its `returnUrl`: once the user picks a
 * language on such a page, their choice beats the client's wish. Unchanged when there is none.
 */
export function withoutUiLocales(href: string): string {
  const url = new URL(href);
  let changed = url.searchParams.has('ui_locales');
  url.searchParams.delete('ui_locales');
  const back = url.searchParams.get('returnUrl');
  if (back?.startsWith('/')) {
    const inner = new URL(back, url.origin);
    if (inner.searchParams.has('ui_locales')) {
      inner.searchParams.delete('ui_locales');
      url.searchParams.set('returnUrl', inner.pathname + inner.search + inner.hash);
      changed = true;
    }
  }
  return changed ? url.toString() : href;
}

/** Remembers the choice for a year; not HttpOnly, since it is a preference, not a credential. */
export function rememberLanguage(language: Language): void {
  const secure = location.protocol === 'https:' ? '; Secure' : '';
  document.cookie = `${LANGUAGE_COOKIE}=${language}; Path=/; Max-Age=31536000; SameSite=Lax${secure}`;
}
