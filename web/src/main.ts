import { bootstrapApplication } from '@angular/platform-browser';

import { appConfig } from './app/app.config';
import { App } from './app/app';
import { chooseLanguage } from './app/core/language';
import { loadLanguage } from './i18n/load';

// Texts are translated as each component is first made, so the translations are loaded before
// the app starts; nothing translates at module load (texts in code live in functions).
const language = chooseLanguage({
  search: location.search,
  cookies: document.cookie,
  preferred: navigator.languages ?? [navigator.language],
});
document.documentElement.lang = language;

loadLanguage(language)
  .catch((err) => {
    console.error('the translations did not load; speaking English', err);
    document.documentElement.lang = 'en';
  })
  .then(() => bootstrapApplication(App, appConfig))
  .catch((err) => console.error(err));
