import { roleLabel } from '../core/role-label';

/** One helper for the whole app (`core/role-label.ts`); the admin pages add the ordering. */
export { roleLabel, RoleLabelPipe } from '../core/role-label';

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
