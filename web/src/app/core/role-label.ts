import { Pipe, PipeTransform } from '@angular/core';

import { roleName } from './api.models';

/** The built-in roles as people read them; any other role is its name, capitalised. */
const BUILT_IN_LABELS: Readonly<Record<string, string>> = {
  user: 'User',
  moderator: 'Moderator',
  admin: 'Admin',
};

/**
 * A role as the pages show it: `ROLE_ADMIN` (or `admin`) is "Admin", `ROLE_BILLING` (or
 * `billing`) is "Billing". Never the authority's `ROLE_…` spelling.
 */
export function roleLabel(role: string): string {
  // Authorities are upper case whatever the role's name; names keep the case they were given.
  const name = role.startsWith('ROLE_') ? roleName(role) : role;
  return BUILT_IN_LABELS[name.toLowerCase()] ?? name.charAt(0).toUpperCase() + name.slice(1);
}

/** `{{ role | roleLabel }}`: see `roleLabel`. */
@Pipe({ name: 'roleLabel' })
export class RoleLabelPipe implements PipeTransform {
  transform(role: string | null | undefined): string {
    return role ? roleLabel(role) : '';
  }
}
