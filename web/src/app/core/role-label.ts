import { Pipe, PipeTransform } from '@angular/core';

import { roleName } from './api.models';

/** The built-in roles as people read them; null for any other role. */
function builtInLabel(name: string): string | null {
  switch (name) {
    case 'user':
      return $localize`:@@core.roles.user:User`;
    case 'moderator':
      return $localize`:@@core.roles.moderator:Moderator`;
    case 'admin':
      return $localize`:@@core.roles.admin:Admin`;
    default:
      return null;
  }
}

/**
 * A role as the pages show it: `ROLE_ADMIN` (or `admin`) is "Admin" (in the page's language),
 * `ROLE_BILLING` (or `billing`) is "Billing". Never the authority's `ROLE_…` spelling.
 */
export function roleLabel(role: string): string {
  // Authorities are upper case whatever the role's name; names keep the case they were given.
  const name = role.startsWith('ROLE_') ? roleName(role) : role;
  return builtInLabel(name.toLowerCase()) ?? name.charAt(0).toUpperCase() + name.slice(1);
}

/** `{{ role | roleLabel }}`: see `roleLabel`. */
@Pipe({ name: 'roleLabel' })
export class RoleLabelPipe implements PipeTransform {
  transform(role: string | null | undefined): string {
    return role ? roleLabel(role) : '';
  }
}
