import { AuditEntry } from '../core/api.models';

/**
 * An audit entry: `actorUsername` and `subjectUsername` are the current usernames of
 * `actorId` and `subjectId`, null once the account is gone.
 */
export type NamedAuditEntry = AuditEntry;

/**
 * The events of docs/API.md's `GET /api/admin/audit`, as the log says them; undefined for one
 * the page does not know. A function, not a map, so that the words are those of the page's language.
 */
function knownEventWords(event: string): string | undefined {
  switch (event) {
    case 'signup':
      return $localize`:@@admin.event.signup:Signed up`;
    case 'signin':
      return $localize`:@@admin.event.signin:Signed in`;
    case 'signin_throttled':
      return $localize`:@@admin.event.signinThrottled:Sign-in throttled`;
    case 'refresh':
      return $localize`:@@admin.event.refresh:Session refreshed`;
    case 'refresh_reuse':
      return $localize`:@@admin.event.refreshReuse:Refresh token reused`;
    case 'signout':
      return $localize`:@@admin.event.signout:Signed out`;
    case 'signout_all':
      return $localize`:@@admin.event.signoutAll:Signed out everywhere`;
    case 'session_ended':
      return $localize`:@@admin.event.sessionEnded:Session ended`;
    case 'password_changed':
      return $localize`:@@admin.event.passwordChanged:Password changed`;
    case 'roles_changed':
      return $localize`:@@admin.event.rolesChanged:Roles changed`;
    case 'disabled':
      return $localize`:@@admin.event.disabled:Account disabled`;
    case 'enabled':
      return $localize`:@@admin.event.enabled:Account enabled`;
    case 'deleted':
      return $localize`:@@admin.event.deleted:Account deleted`;
    case 'last_admin_override':
      return $localize`:@@admin.event.lastAdminOverride:Last admin removed (forced)`;
    case 'password_reset_requested':
      return $localize`:@@admin.event.passwordResetRequested:Password reset asked for`;
    case 'password_reset':
      return $localize`:@@admin.event.passwordReset:Password reset`;
    case 'email_verified':
      return $localize`:@@admin.event.emailVerified:Email verified`;
    case 'email_change_requested':
      return $localize`:@@admin.event.emailChangeRequested:Email change asked for`;
    case 'email_changed':
      return $localize`:@@admin.event.emailChanged:Email changed`;
    case 'magic_link_requested':
      return $localize`:@@admin.event.magicLinkRequested:Sign-in link asked for`;
    case 'signin_magic_link':
      return $localize`:@@admin.event.signinMagicLink:Signed in by email link`;
    case 'mailed_password_reset':
      return $localize`:@@admin.event.mailedPasswordReset:Mailed: password reset`;
    case 'mailed_password_changed':
      return $localize`:@@admin.event.mailedPasswordChanged:Mailed: password changed`;
    case 'mailed_verify_email':
      return $localize`:@@admin.event.mailedVerifyEmail:Mailed: verify email`;
    case 'mailed_email_change':
      return $localize`:@@admin.event.mailedEmailChange:Mailed: email change`;
    case 'mailed_email_changed':
      return $localize`:@@admin.event.mailedEmailChanged:Mailed: email changed`;
    case 'mailed_magic_link':
      return $localize`:@@admin.event.mailedMagicLink:Mailed: sign-in link`;
    case 'mailed_factor_changed':
      return $localize`:@@admin.event.mailedFactorChanged:Mailed: second factor changed`;
    case 'passkey_registered':
      return $localize`:@@admin.event.passkeyRegistered:Passkey added`;
    case 'passkey_renamed':
      return $localize`:@@admin.event.passkeyRenamed:Passkey renamed`;
    case 'passkey_removed':
      return $localize`:@@admin.event.passkeyRemoved:Passkey removed`;
    case 'signin_passkey':
      return $localize`:@@admin.event.signinPasskey:Signed in with a passkey`;
    case 'passkey_counter_regressed':
      return $localize`:@@admin.event.passkeyCounterRegressed:Passkey counter went back`;
    case 'totp_enabled':
      return $localize`:@@admin.event.totpEnabled:Authenticator app turned on`;
    case 'totp_disabled':
      return $localize`:@@admin.event.totpDisabled:Authenticator app turned off`;
    case 'recovery_codes_created':
      return $localize`:@@admin.event.recoveryCodesCreated:Recovery codes made`;
    case 'mfa_verified':
      return $localize`:@@admin.event.mfaVerified:Second step passed`;
    case 'mfa_reset':
      return $localize`:@@admin.event.mfaReset:Second factors reset`;
    case 'client_created':
      return $localize`:@@admin.event.clientCreated:Client created`;
    case 'client_updated':
      return $localize`:@@admin.event.clientUpdated:Client changed`;
    case 'client_deleted':
      return $localize`:@@admin.event.clientDeleted:Client deleted`;
    case 'consent_granted':
      return $localize`:@@admin.event.consentGranted:Access allowed`;
    case 'consent_revoked':
      return $localize`:@@admin.event.consentRevoked:Access withdrawn`;
    case 'signin_client':
      return $localize`:@@admin.event.signinClient:Signed in to a client`;
    case 'code_reuse':
      return $localize`:@@admin.event.codeReuse:Code used again`;
    case 'role_created':
      return $localize`:@@admin.event.roleCreated:Role created`;
    case 'role_updated':
      return $localize`:@@admin.event.roleUpdated:Role changed`;
    case 'role_deleted':
      return $localize`:@@admin.event.roleDeleted:Role deleted`;
    case 'permission_created':
      return $localize`:@@admin.event.permissionCreated:Permission created`;
    case 'permission_deleted':
      return $localize`:@@admin.event.permissionDeleted:Permission deleted`;
    case 'group_created':
      return $localize`:@@admin.event.groupCreated:Group created`;
    case 'group_updated':
      return $localize`:@@admin.event.groupUpdated:Group changed`;
    case 'group_deleted':
      return $localize`:@@admin.event.groupDeleted:Group deleted`;
    case 'group_member_added':
      return $localize`:@@admin.event.groupMemberAdded:Added to a group`;
    case 'group_member_removed':
      return $localize`:@@admin.event.groupMemberRemoved:Removed from a group`;
    case 'api_key_created':
      return $localize`:@@admin.event.apiKeyCreated:API key made`;
    case 'api_key_revoked':
      return $localize`:@@admin.event.apiKeyRevoked:API key revoked`;
    case 'service_account_created':
      return $localize`:@@admin.event.serviceAccountCreated:Service account created`;
    case 'provider_created':
      return $localize`:@@admin.event.providerCreated:Provider added`;
    case 'provider_updated':
      return $localize`:@@admin.event.providerUpdated:Provider changed`;
    case 'provider_deleted':
      return $localize`:@@admin.event.providerDeleted:Provider deleted`;
    case 'signin_provider':
      return $localize`:@@admin.event.signinProvider:Signed in with a provider`;
    case 'provider_linked':
      return $localize`:@@admin.event.providerLinked:Provider linked`;
    case 'provider_unlinked':
      return $localize`:@@admin.event.providerUnlinked:Provider unlinked`;
    case 'branding_changed':
      return $localize`:@@admin.event.brandingChanged:Branding changed`;
    default:
      return undefined;
  }
}

/** An event in words; one the page does not know yet reads as its code, spaced out. */
export function eventWords(event: string): string {
  const known = knownEventWords(event);
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
  if (entry.via === 'cli') return $localize`:@@admin.audit.commandLine:command line`;
  if (entry.actorUsername) return entry.actorUsername;
  if (entry.actorId !== null && entry.actorId !== undefined) return `#${entry.actorId}`;
  return '';
}
