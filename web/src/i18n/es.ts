import { registerLocaleData } from '@angular/common';
import localeEs from '@angular/common/locales/es';

import account from './es/account.json';
import admin from './es/admin.json';
import auth from './es/auth.json';
import boards from './es/boards.json';
import clients from './es/clients.json';
import core from './es/core.json';
import language from './es/language.json';
import oauth from './es/oauth.json';
import providers from './es/providers.json';
import roles from './es/roles.json';
import shell from './es/shell.json';
import users from './es/users.json';

registerLocaleData(localeEs);

/** Every text of the app in this language, by id; each part of the app keeps its own file. */
export const TRANSLATIONS: Record<string, string> = {
  ...account,
  ...admin,
  ...auth,
  ...boards,
  ...clients,
  ...core,
  ...language,
  ...oauth,
  ...providers,
  ...roles,
  ...shell,
  ...users,
};
