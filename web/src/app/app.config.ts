import { provideHttpClient, withInterceptors } from '@angular/common/http';
import {
  ApplicationConfig,
  LOCALE_ID,
  inject,
  provideAppInitializer,
  provideBrowserGlobalErrorListeners,
} from '@angular/core';
import { TitleStrategy, provideRouter, withComponentInputBinding } from '@angular/router';

import { routes } from './app.routes';
import { AuthService } from './core/auth.service';
import { BrandingService } from './core/branding.service';
import { credentialsInterceptor } from './core/credentials.interceptor';
import { currentLanguage } from './core/language';
import { BrandedTitleStrategy } from './core/page-title';

export const appConfig: ApplicationConfig = {
  providers: [
    provideBrowserGlobalErrorListeners(),
    // Dates and numbers in the page's language (main.ts registered its locale data).
    { provide: LOCALE_ID, useFactory: currentLanguage },
    provideHttpClient(withInterceptors([credentialsInterceptor])),
    provideRouter(routes, withComponentInputBinding()),
    { provide: TitleStrategy, useClass: BrandedTitleStrategy },
    // Before the first route is resolved, ask the server who is signed in (401: nobody).
    provideAppInitializer(() => inject(AuthService).load()),
    // The name, logo and colour; never fails the start, nor holds it up for long (the two
    // initializers run side by side).
    provideAppInitializer(() => inject(BrandingService).load()),
  ],
};
