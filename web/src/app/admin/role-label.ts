import { Pipe, PipeTransform } from '@angular/core';

/**
 * A role as people read it: `user` is "User", a defined `billing` is "Billing", and an
 * authority `ROLE_MODERATOR` is "Moderator". The API keeps names and authorities as they are;
 * only the pages show this. (Until the app's own helper lands in core/.)
 */
export function roleLabel(name: string): string {
  // Authorities are upper case whatever the role's name; names keep the case they were given.
  const bare = name.startsWith('ROLE_') ? name.slice('ROLE_'.length).toLowerCase() : name;
  return bare.charAt(0).toUpperCase() + bare.slice(1);
}

/** The built-in roles first, by rank, then the others by name: as the roles page lists them. */
const BUILT_IN = ['user', 'moderator', 'admin'];

function rank(name: string): number {
  const index = BUILT_IN.indexOf(name.replace(/^ROLE_/, '').toLowerCase());
  return index === -1 ? BUILT_IN.length : index;
}

/** Several roles, by label, built-in ones first: "User, Moderator, Billing". */
export function roleLabels(names: readonly string[]): string {
  return [...names]
    .sort((a, b) => rank(a) - rank(b) || roleLabel(a).localeCompare(roleLabel(b)))
    .map(roleLabel)
    .join(', ');
}

@Pipe({ name: 'roleLabel' })
export class RoleLabelPipe implements PipeTransform {
  transform(name: string): string {
    return roleLabel(name);
  }
}
