import { AuditEntry } from '../core/api.models';

/**
 * An audit entry: `actorUsername` and `subjectUsername` are the current usernames of
 * `actorId` and `subjectId`, null once the account is gone.
 */
export type NamedAuditEntry = AuditEntry;

/** The events of docs/API.md's `GET /api/admin/audit`, as the log says them. */
const EVENT_WORDS: Readonly<Record<string, string>> = {
  signup: 'Signed up',
  signin: 'Signed in',
  signin_throttled: 'Sign-in throttled',
  refresh: 'Session refreshed',
  refresh_reuse: 'Refresh token reused',
  signout: 'Signed out',
  signout_all: 'Signed out everywhere',
  session_ended: 'Session ended',
  password_changed: 'Password changed',
  roles_changed: 'Roles changed',
  disabled: 'Account disabled',
  enabled: 'Account enabled',
  deleted: 'Account deleted',
  last_admin_override: 'Last admin removed (forced)',
  password_reset_requested: 'Password reset asked for',
  password_reset: 'Password reset',
  email_verified: 'Email verified',
  email_change_requested: 'Email change asked for',
  email_changed: 'Email changed',
  magic_link_requested: 'Sign-in link asked for',
  signin_magic_link: 'Signed in by email link',
  mailed_password_reset: 'Mailed: password reset',
  mailed_password_changed: 'Mailed: password changed',
  mailed_verify_email: 'Mailed: verify email',
  mailed_email_change: 'Mailed: email change',
  mailed_email_changed: 'Mailed: email changed',
  mailed_magic_link: 'Mailed: sign-in link',
  mailed_factor_changed: 'Mailed: second factor changed',
  passkey_registered: 'Passkey added',
  passkey_renamed: 'Passkey renamed',
  passkey_removed: 'Passkey removed',
  signin_passkey: 'Signed in with a passkey',
  passkey_counter_regressed: 'Passkey counter went back',
  totp_enabled: 'Authenticator app turned on',
  totp_disabled: 'Authenticator app turned off',
  recovery_codes_created: 'Recovery codes made',
  mfa_verified: 'Second step passed',
  mfa_reset: 'Second factors reset',
  client_created: 'Client created',
  client_updated: 'Client changed',
  client_deleted: 'Client deleted',
  consent_granted: 'Access allowed',
  consent_revoked: 'Access withdrawn',
  signin_client: 'Signed in to a client',
  code_reuse: 'Code used again',
  role_created: 'Role created',
  role_updated: 'Role changed',
  role_deleted: 'Role deleted',
  permission_created: 'Permission created',
  permission_deleted: 'Permission deleted',
  group_created: 'Group created',
  group_updated: 'Group changed',
  group_deleted: 'Group deleted',
  group_member_added: 'Added to a group',
  group_member_removed: 'Removed from a group',
  api_key_created: 'API key made',
  api_key_revoked: 'API key revoked',
  service_account_created: 'Service account created',
  provider_created: 'Provider added',
  provider_updated: 'Provider changed',
  provider_deleted: 'Provider deleted',
  signin_provider: 'Signed in with a provider',
  provider_linked: 'Provider linked',
  provider_unlinked: 'Provider unlinked',
  branding_changed: 'Branding changed',
};

/** An event in words; one the page does not know yet reads as its code, spaced out. */
export function eventWords(event: string): string {
  const known = EVENT_WORDS[event];
  if (known) return known;
  const spaced = event.replace(/_/g, ' ');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

/** Whom the event is about: their current name, else `#id` (and the name it recorded). */
export function subjectLabel(entry: NamedAuditEntry): string {
  if (entry.subjectUsername) return entry.subjectUsername;
  if (entry.subjectId !== null && entry.subjectId !== undefined) {
    return entry.username ? `#${entry.subjectId} (${entry.username})` : `#${entry.subjectId}`;
  }
  // No account: what was typed (a failed sign-in, a reset asked for an unknown address).
  return entry.username ?? '';
}

/** Who did it: their current name, else `#id`; the command line has no actor. */
export function actorLabel(entry: NamedAuditEntry): string {
  if (entry.via === 'cli') return 'command line';
  if (entry.actorUsername) return entry.actorUsername;
  if (entry.actorId !== null && entry.actorId !== undefined) return `#${entry.actorId}`;
  return '';
}
