import { registerLocaleData } from '@angular/common';
import localeDe from '@angular/common/locales/de';

import account from './de/account.json';
import admin from './de/admin.json';
import auth from './de/auth.json';
import boards from './de/boards.json';
import clients from './de/clients.json';
import core from './de/core.json';
import language from './de/language.json';
import oauth from './de/oauth.json';
import providers from './de/providers.json';
import roles from './de/roles.json';
import shell from './de/shell.json';
import users from './de/users.json';

registerLocaleData(localeDe);

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
