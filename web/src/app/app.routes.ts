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
    path: 'forbidden',
    title: 'Not allowed · Portcullis',
    loadComponent: () => import('./core/forbidden').then((m) => m.Forbidden),
  },
  { path: '**', redirectTo: 'home' },
];
