import { HttpErrorResponse, HttpInterceptorFn } from '@angular/common/http';
import { inject } from '@angular/core';
import { Router } from '@angular/router';
import { catchError, throwError } from 'rxjs';

import { AuthService, EXPECTS_401 } from './auth.service';

export const SESSION_ENDED = 'ended';

/**
 * The app's only HTTP interceptor. It sends the HttpOnly session cookies with every call,
 * asks the server to keep tokens out of response bodies, and has no refresh logic: the server refreshes cookie sessions by itself. A 401 means
 * the session is over, so the user state is cleared and the user goes to the login page
 * ("Your session has ended"), except for calls that expect a 401 (the sign-in form).
 */
export const credentialsInterceptor: HttpInterceptorFn = (request, next) => {
  const auth = inject(AuthService);
  const router = inject(Router);
  // Cookie-only delivery for our calls: even where the server also hands tokens to body
  // clients, none ever reaches this app's scripts.
  const withCookies = request.clone({ withCredentials: true, setHeaders: { 'X-Token-Delivery': 'cookie' } });
  return next(withCookies).pipe(
    catchError((error: unknown) => {
      if (
        error instanceof HttpErrorResponse &&
        error.status === 401 &&
        !request.context.get(EXPECTS_401)
      ) {
        auth.clear();
        void router.navigate(['/login'], { queryParams: { reason: SESSION_ENDED } });
      }
      return throwError(() => error);
    }),
  );
};
