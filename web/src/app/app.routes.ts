import { inject } from '@angular/core';
import { Router, Routes } from '@angular/router';

import {
  adminGuard,
  anonymousGuard,
  moderatorGuard,
  signedInGuard,
  LINKED_SIGNINS_PAGE,
} from './core/guards';

export const routes: Routes = [
  // The landing page; its title is the product's name alone.
  {
    path: '',
    pathMatch: 'full',
    loadComponent: () => import('./shell/home').then((m) => m.Home),
  },
  { path: 'home', redirectTo: '' },
  {
    path: 'login',
    title: 'Sign in',
    canActivate: [anonymousGuard],
    loadComponent: () => import('./auth/login').then((m) => m.Login),
  },
  {
    path: 'register',
    title: 'Sign up',
    canActivate: [anonymousGuard],
    loadComponent: () => import('./auth/register').then((m) => m.Register),
  },
  {
    path: 'forgot-password',
    title: 'Forgot password',
    data: { purpose: 'reset' },
    loadComponent: () => import('./auth/email-link').then((m) => m.EmailLink),
  },
  {
    path: 'sign-in-link',
    title: 'Sign in by email',
    canActivate: [anonymousGuard],
    data: { purpose: 'signin' },
    loadComponent: () => import('./auth/email-link').then((m) => m.EmailLink),
  },
  // The pages of the links in mails (`<PUBLIC_URL>/<page>?token=…`); open to anyone, since
  // a link may be opened in a browser where someone (or no one) is signed in.
  {
    path: 'reset-password',
    title: 'New password',
    loadComponent: () => import('./auth/reset-password').then((m) => m.ResetPassword),
  },
  {
    path: 'verify-email',
    title: 'Email address',
    loadComponent: () => import('./auth/verify-email').then((m) => m.VerifyEmail),
  },
  {
    path: 'magic-link',
    title: 'Sign in by email',
    loadComponent: () => import('./auth/magic-link').then((m) => m.MagicLink),
  },
  // Where /api/oauth/authorize sends a relying party's browser: open to anyone, since the page
  // itself sends a visitor who is not signed in (or must sign in afresh) to login and back.
  {
    path: 'oauth/consent',
    title: 'Allow access',
    loadComponent: () => import('./oauth/consent').then((m) => m.Consent),
  },
  // Where /api/oauth/logout sends an application's logout request that came without this
  // browser's cookies (from another site): open to anyone, since the page asks whoever is
  // (or is not) signed in.
  {
    path: 'oauth/logout',
    title: 'Sign out',
    loadComponent: () => import('./oauth/logout').then((m) => m.Logout),
  },
  // RFC 8628's verification page, where people type the code a device shows (`?user_code=`
  // when the device's link carries it), and where the consent page sends them afterwards
  // (`?result=`): open to anyone, since the page itself sends a visitor who is not signed in
  // to login and back, like the consent page.
  {
    path: 'device',
    title: 'Connect a device',
    loadComponent: () => import('./oauth/device').then((m) => m.Device),
  },
  // Every signed-in user's own console: a page per subject, each loaded when first opened.
  {
    path: 'account',
    canActivate: [signedInGuard],
    loadComponent: () => import('./account/account-console').then((m) => m.AccountConsole),
    children: [
      {
        path: '',
        pathMatch: 'full',
        title: 'Profile',
        loadComponent: () => import('./account/profile-page').then((m) => m.ProfilePage),
      },
      { path: 'profile', redirectTo: '' },
      {
        path: 'security',
        title: 'Security',
        loadComponent: () => import('./account/security-page').then((m) => m.SecurityPage),
      },
      {
        path: 'sessions',
        title: 'Sessions',
        loadComponent: () => import('./account/sessions-page').then((m) => m.SessionsPage),
      },
      {
        path: 'apps',
        title: 'Connected apps',
        loadComponent: () => import('./account/connected-apps-page').then((m) => m.ConnectedAppsPage),
      },
      {
        path: 'linked',
        title: 'Linked sign-ins',
        loadComponent: () => import('./account/linked-signins-page').then((m) => m.LinkedSigninsPage),
      },
      {
        path: 'api-keys',
        title: 'API keys',
        loadComponent: () => import('./account/api-keys-page').then((m) => m.ApiKeysPage),
      },
    ],
  },
  // The old single profile page, still in mails and bookmarks. A failed provider link used to
  // come back as `/profile?error=<code>`: that is the Linked sign-ins page's to say.
  {
    path: 'profile',
    redirectTo: ({ queryParams }) =>
      inject(Router).createUrlTree(queryParams['error'] ? [LINKED_SIGNINS_PAGE] : ['/account'], { queryParams }),
  },
  // The tutorial's boards, kept as a demo of the role checks, out of the product's way.
  {
    path: 'demo',
    loadComponent: () => import('./boards/demo').then((m) => m.Demo),
    children: [
      {
        path: '',
        pathMatch: 'full',
        title: 'Demo',
        data: { board: 'all', heading: 'Public content' },
        loadComponent: () => import('./boards/board').then((m) => m.BoardPage),
      },
      {
        path: 'user',
        title: 'User board · Demo',
        canActivate: [signedInGuard],
        data: { board: 'user', heading: 'User board' },
        loadComponent: () => import('./boards/board').then((m) => m.BoardPage),
      },
      {
        path: 'mod',
        title: 'Moderator board · Demo',
        canActivate: [moderatorGuard],
        data: { board: 'mod', heading: 'Moderator board' },
        loadComponent: () => import('./boards/board').then((m) => m.BoardPage),
      },
      {
        path: 'admin',
        title: 'Admin board · Demo',
        canActivate: [adminGuard],
        data: { board: 'admin', heading: 'Admin board' },
        loadComponent: () => import('./boards/board').then((m) => m.BoardPage),
      },
    ],
  },
  { path: 'user', redirectTo: '/demo/user' },
  { path: 'mod', redirectTo: '/demo/mod' },
  // The admin console opens on its users page.
  { path: 'admin', pathMatch: 'full', redirectTo: '/admin/users' },
  {
    path: 'admin/users',
    title: 'Manage users',
    canActivate: [adminGuard],
    loadComponent: () => import('./admin/admin-page').then((m) => m.AdminPage),
  },
  {
    path: 'admin/roles',
    title: 'Roles and permissions',
    canActivate: [adminGuard],
    loadComponent: () => import('./admin/roles-page').then((m) => m.RolesPage),
  },
  {
    path: 'admin/groups',
    title: 'Groups',
    canActivate: [adminGuard],
    loadComponent: () => import('./admin/groups-page').then((m) => m.GroupsPage),
  },
  {
    path: 'admin/clients',
    title: 'OpenID Connect clients',
    canActivate: [adminGuard],
    loadComponent: () => import('./admin/clients-page').then((m) => m.ClientsPage),
  },
  {
    path: 'admin/providers',
    title: 'Identity providers',
    canActivate: [adminGuard],
    loadComponent: () => import('./admin/providers-page').then((m) => m.ProvidersPage),
  },
  {
    path: 'admin/audit',
    title: 'Audit log',
    canActivate: [adminGuard],
    loadComponent: () => import('./admin/audit-page').then((m) => m.AuditPage),
  },
  {
    path: 'admin/branding',
    title: 'Branding',
    canActivate: [adminGuard],
    loadComponent: () => import('./admin/branding-page').then((m) => m.BrandingPage),
  },
  {
    path: 'forbidden',
    title: 'Not allowed',
    loadComponent: () => import('./core/forbidden').then((m) => m.Forbidden),
  },
  {
    path: '**',
    title: 'Page not found',
    loadComponent: () => import('./shell/not-found').then((m) => m.NotFound),
  },
];
