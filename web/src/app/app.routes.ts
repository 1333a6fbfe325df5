import { Routes } from '@angular/router';

import {
  adminGuard,
  anonymousGuard,
  moderatorGuard,
  signedInGuard,
} from './core/guards';

export const routes: Routes = [
  { path: '', pathMatch: 'full', redirectTo: 'home' },
  {
    path: 'home',
    title: 'Portcullis',
    loadComponent: () => import('./boards/home').then((m) => m.Home),
  },
  {
    path: 'login',
    title: 'Login · Portcullis',
    canActivate: [anonymousGuard],
    loadComponent: () => import('./auth/login').then((m) => m.Login),
  },
  {
    path: 'register',
    title: 'Sign up · Portcullis',
    canActivate: [anonymousGuard],
    loadComponent: () => import('./auth/register').then((m) => m.Register),
  },
  {
    path: 'forgot-password',
    title: 'Forgot password · Portcullis',
    data: { purpose: 'reset' },
    loadComponent: () => import('./auth/email-link').then((m) => m.EmailLink),
  },
  {
    path: 'sign-in-link',
    title: 'Sign in by email · Portcullis',
    canActivate: [anonymousGuard],
    data: { purpose: 'signin' },
    loadComponent: () => import('./auth/email-link').then((m) => m.EmailLink),
  },
  // The pages of the links in mails (`<PUBLIC_URL>/<page>?token=…`); open to anyone, since
  // a link may be opened in a browser where someone (or no one) is signed in.
  {
    path: 'reset-password',
    title: 'New password · Portcullis',
    loadComponent: () => import('./auth/reset-password').then((m) => m.ResetPassword),
  },
  {
    path: 'verify-email',
    title: 'Email address · Portcullis',
    loadComponent: () => import('./auth/verify-email').then((m) => m.VerifyEmail),
  },
  {
    path: 'magic-link',
    title: 'Sign in by email · Portcullis',
    loadComponent: () => import('./auth/magic-link').then((m) => m.MagicLink),
  },
  // Where /api/oauth/authorize sends a relying party's browser: open to anyone, since the page
  // itself sends a visitor who is not signed in (or must sign in afresh) to login and back.
  {
    path: 'oauth/consent',
    title: 'Allow access · Portcullis',
    loadComponent: () => import('./oauth/consent').then((m) => m.Consent),
  },
  // Where /api/oauth/logout sends an application's logout request that came without this
  // browser's cookies (from another site): open to anyone, since the page asks whoever is
  // (or is not) signed in.
  {
    path: 'oauth/logout',
    title: 'Sign out · Portcullis',
    loadComponent: () => import('./oauth/logout').then((m) => m.Logout),
  },
  // RFC 8628's verification page, where people type the code a device shows (`?user_code=`
  // when the device's link carries it), and where the consent page sends them afterwards
  // (`?result=`): open to anyone, since the page itself sends a visitor who is not signed in
  // to login and back, like the consent page.
  {
    path: 'device',
    title: 'Connect a device · Portcullis',
    loadComponent: () => import('./oauth/device').then((m) => m.Device),
  },
  {
    path: 'profile',
    title: 'Profile · Portcullis',
    canActivate: [signedInGuard],
    loadComponent: () => import('./account/profile').then((m) => m.Profile),
  },
  {
    path: 'user',
    title: 'User board · Portcullis',
    canActivate: [signedInGuard],
    data: { board: 'user', heading: 'User board' },
    loadComponent: () => import('./boards/board').then((m) => m.BoardPage),
  },
  {
    path: 'mod',
    title: 'Moderator board · Portcullis',
    canActivate: [moderatorGuard],
    data: { board: 'mod', heading: 'Moderator board' },
    loadComponent: () => import('./boards/board').then((m) => m.BoardPage),
  },
  {
    path: 'admin',
    title: 'Admin board · Portcullis',
    canActivate: [adminGuard],
    data: { board: 'admin', heading: 'Admin board' },
    loadComponent: () => import('./boards/board').then((m) => m.BoardPage),
  },
  {
    path: 'admin/users',
    title: 'Manage users · Portcullis',
    canActivate: [adminGuard],
    loadComponent: () => import('./admin/admin-page').then((m) => m.AdminPage),
  },
  {
    path: 'admin/roles',
    title: 'Roles and permissions · Portcullis',
    canActivate: [adminGuard],
    loadComponent: () => import('./admin/roles-page').then((m) => m.RolesPage),
  },
  {
    path: 'admin/groups',
    title: 'Groups · Portcullis',
    canActivate: [adminGuard],
    loadComponent: () => import('./admin/groups-page').then((m) => m.GroupsPage),
  },
  {
    path: 'admin/clients',
    title: 'OpenID Connect clients · Portcullis',
    canActivate: [adminGuard],
    loadComponent: () => import('./admin/clients-page').then((m) => m.ClientsPage),
  },
  {
    path: 'admin/providers',
    title: 'Identity providers · Portcullis',
    canActivate: [adminGuard],
    loadComponent: () => import('./admin/providers-page').then((m) => m.ProvidersPage),
  },
  {
    path: 'admin/audit',
    title: 'Audit log · Portcullis',
    canActivate: [adminGuard],
    loadComponent: () => import('./admin/audit-page').then((m) => m.AuditPage),
  },
  {
    path: 'admin/branding',
    title: 'Branding · Portcullis',
    canActivate: [adminGuard],
    loadComponent: () => import('./admin/branding-page').then((m) => m.BrandingPage),
  },
  {
    path: 'forbidden',
    title: 'Not allowed · Portcullis',
    loadComponent: () => import('./core/forbidden').then((m) => m.Forbidden),
  },
  { path: '**', redirectTo: 'home' },
];
