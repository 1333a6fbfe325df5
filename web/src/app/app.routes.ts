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
    title: () => $localize`:@@shell.title.signIn:Sign in`,
    canActivate: [anonymousGuard],
    loadComponent: () => import('./auth/login').then((m) => m.Login),
  },
  {
    path: 'register',
    title: () => $localize`:@@shell.title.signUp:Sign up`,
    canActivate: [anonymousGuard],
    loadComponent: () => import('./auth/register').then((m) => m.Register),
  },
  {
    path: 'forgot-password',
    title: () => $localize`:@@shell.title.forgotPassword:Forgot password`,
    data: { purpose: 'reset' },
    loadComponent: () => import('./auth/email-link').then((m) => m.EmailLink),
  },
  {
    path: 'sign-in-link',
    title: () => $localize`:@@shell.title.signInByEmail:Sign in by email`,
    canActivate: [anonymousGuard],
    data: { purpose: 'signin' },
    loadComponent: () => import('./auth/email-link').then((m) => m.EmailLink),
  },
  // The pages of the links in mails (`<PUBLIC_URL>/<page>?token=…`); open to anyone, since
  // a link may be opened in a browser where someone (or no one) is signed in.
  {
    path: 'reset-password',
    title: () => $localize`:@@shell.title.newPassword:New password`,
    loadComponent: () => import('./auth/reset-password').then((m) => m.ResetPassword),
  },
  {
    path: 'verify-email',
    title: () => $localize`:@@shell.title.emailAddress:Email address`,
    loadComponent: () => import('./auth/verify-email').then((m) => m.VerifyEmail),
  },
  {
    path: 'magic-link',
    title: () => $localize`:@@shell.title.signInByEmail:Sign in by email`,
    loadComponent: () => import('./auth/magic-link').then((m) => m.MagicLink),
  },
  // Where /api/oauth/authorize sends a relying party's browser: open to anyone, since the page
  // itself sends a visitor who is not signed in (or must sign in afresh) to login and back.
  {
    path: 'oauth/consent',
    title: () => $localize`:@@shell.title.allowAccess:Allow access`,
    loadComponent: () => import('./oauth/consent').then((m) => m.Consent),
  },
  // Where /api/oauth/logout sends an application's logout request that came without this
  // browser's cookies (from another site): open to anyone, since the page asks whoever is
  // (or is not) signed in.
  {
    path: 'oauth/logout',
    title: () => $localize`:@@shell.title.signOut:Sign out`,
    loadComponent: () => import('./oauth/logout').then((m) => m.Logout),
  },
  // RFC 8628's verification page, where people type the code a device shows (`?user_code=`
  // when the device's link carries it), and where the consent page sends them afterwards
  // (`?result=`): open to anyone, since the page itself sends a visitor who is not signed in
  // to login and back, like the consent page.
  {
    path: 'device',
    title: () => $localize`:@@shell.title.connectDevice:Connect a device`,
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
        title: () => $localize`:@@shell.title.profile:Profile`,
        loadComponent: () => import('./account/profile-page').then((m) => m.ProfilePage),
      },
      { path: 'profile', redirectTo: '' },
      {
        path: 'security',
        title: () => $localize`:@@shell.title.security:Security`,
        loadComponent: () => import('./account/security-page').then((m) => m.SecurityPage),
      },
      {
        path: 'sessions',
        title: () => $localize`:@@shell.title.sessions:Sessions`,
        loadComponent: () => import('./account/sessions-page').then((m) => m.SessionsPage),
      },
      {
        path: 'apps',
        title: () => $localize`:@@shell.title.connectedApps:Connected apps`,
        loadComponent: () => import('./account/connected-apps-page').then((m) => m.ConnectedAppsPage),
      },
      {
        path: 'linked',
        title: () => $localize`:@@shell.title.linkedSignins:Linked sign-ins`,
        loadComponent: () => import('./account/linked-signins-page').then((m) => m.LinkedSigninsPage),
      },
      {
        path: 'api-keys',
        title: () => $localize`:@@shell.title.apiKeys:API keys`,
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
        title: () => $localize`:@@shell.title.demo:Demo`,
        data: { board: 'all' },
        loadComponent: () => import('./boards/board').then((m) => m.BoardPage),
      },
      {
        path: 'user',
        title: () => $localize`:@@shell.title.userBoard:User board · Demo`,
        canActivate: [signedInGuard],
        data: { board: 'user' },
        loadComponent: () => import('./boards/board').then((m) => m.BoardPage),
      },
      {
        path: 'mod',
        title: () => $localize`:@@shell.title.moderatorBoard:Moderator board · Demo`,
        canActivate: [moderatorGuard],
        data: { board: 'mod' },
        loadComponent: () => import('./boards/board').then((m) => m.BoardPage),
      },
      {
        path: 'admin',
        title: () => $localize`:@@shell.title.adminBoard:Admin board · Demo`,
        canActivate: [adminGuard],
        data: { board: 'admin' },
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
    title: () => $localize`:@@shell.title.manageUsers:Manage users`,
    canActivate: [adminGuard],
    loadComponent: () => import('./admin/admin-page').then((m) => m.AdminPage),
  },
  {
    path: 'admin/roles',
    title: () => $localize`:@@shell.title.rolesAndPermissions:Roles and permissions`,
    canActivate: [adminGuard],
    loadComponent: () => import('./admin/roles-page').then((m) => m.RolesPage),
  },
  {
    path: 'admin/groups',
    title: () => $localize`:@@shell.title.groups:Groups`,
    canActivate: [adminGuard],
    loadComponent: () => import('./admin/groups-page').then((m) => m.GroupsPage),
  },
  {
    path: 'admin/clients',
    title: () => $localize`:@@shell.title.clients:OpenID Connect clients`,
    canActivate: [adminGuard],
    loadComponent: () => import('./admin/clients-page').then((m) => m.ClientsPage),
  },
  {
    path: 'admin/providers',
    title: () => $localize`:@@shell.title.providers:Identity providers`,
    canActivate: [adminGuard],
    loadComponent: () => import('./admin/providers-page').then((m) => m.ProvidersPage),
  },
  {
    path: 'admin/audit',
    title: () => $localize`:@@shell.title.auditLog:Audit log`,
    canActivate: [adminGuard],
    loadComponent: () => import('./admin/audit-page').then((m) => m.AuditPage),
  },
  {
    path: 'admin/branding',
    title: () => $localize`:@@shell.title.branding:Branding`,
    canActivate: [adminGuard],
    loadComponent: () => import('./admin/branding-page').then((m) => m.BrandingPage),
  },
  {
    path: 'forbidden',
    title: () => $localize`:@@shell.title.forbidden:Not allowed`,
    loadComponent: () => import('./core/forbidden').then((m) => m.Forbidden),
  },
  {
    path: '**',
    title: () => $localize`:@@shell.title.notFound:Page not found`,
    loadComponent: () => import('./shell/not-found').then((m) => m.NotFound),
  },
];
