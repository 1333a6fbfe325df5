import { loadTranslations } from '@angular/localize';

import type { Language } from '../app/core/language';

/**
 * Each language other than English is its own chunk, fetched only by those who speak it; the
 * English texts are in the templates themselves. The translations live in one file per part
 * of the app (`de/account.json`, …) so that the parts can be translated side by side.
 */
const CHUNKS: Record<Exclude<Language, 'en'>, () => Promise<{ TRANSLATIONS: Record<string, string> }>> = {
  de: () => import('./de'),
  es: () => import('./es'),
};

export async function loadLanguage(language: Language): Promise<void> {
  if (language === 'en') {
    return;
  }
  const { TRANSLATIONS } = await CHUNKS[language]();
  loadTranslations(TRANSLATIONS);
}
