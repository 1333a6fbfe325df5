/**
 * What the login page (and the account console, for a link) says when a sign-in with another identity
 * provider ended at `/login?error=<code>` (docs/API.md §2, "Signing in with a provider"). The
 * address carries only the code, so the provider's name is the one this browser last chose, if
 * it is known (`rememberProvider`), or "the provider".
 */

/** Where the provider last chosen in this tab is kept (its display name only; never a token). */
const LAST_PROVIDER_KEY = 'portcullis.lastProvider';

/**
 * The sentence for each code the callback and the start send the browser back with; null for
 * a code this app does not know. Those that name the provider have a sentence without a name
 * too ("the provider"), since other languages cannot put a stand-in into every sentence.
 */
function sentence(code: string, provider: string | null): string | null {
  const p = provider;
  switch (code) {
    case 'provider_unknown':
      return $localize`:@@core.providerErrors.unknown:That sign-in option is not available: it may have been turned off. Sign in another way.`;
    case 'provider_unavailable':
      return p
        ? $localize`:@@core.providerErrors.unavailable:${p}:provider: could not be reached. Try again in a moment.`
        : $localize`:@@core.providerErrors.unavailableUnnamed:The provider could not be reached. Try again in a moment.`;
    case 'provider_refused':
      return p
        ? $localize`:@@core.providerErrors.refused:The sign-in at ${p}:provider: was cancelled or refused. Try again, or sign in another way.`
        : $localize`:@@core.providerErrors.refusedUnnamed:The sign-in at the provider was cancelled or refused. Try again, or sign in another way.`;
    case 'provider_state_invalid':
      return $localize`:@@core.providerErrors.stateInvalid:That sign-in expired, was already used, or was started in another browser. Start it again from this page.`;
    case 'provider_issuer_mismatch':
      return p
        ? $localize`:@@core.providerErrors.issuerMismatch:The answer did not come from ${p}:provider: as expected, so nobody was signed in. Start again from this page.`
        : $localize`:@@core.providerErrors.issuerMismatchUnnamed:The answer did not come from the provider as expected, so nobody was signed in. Start again from this page.`;
    case 'provider_token_invalid':
      return p
        ? $localize`:@@core.providerErrors.tokenInvalid:The answer from ${p}:provider: could not be verified, so nobody was signed in. Try again, or tell an administrator.`
        : $localize`:@@core.providerErrors.tokenInvalidUnnamed:The answer from the provider could not be verified, so nobody was signed in. Try again, or tell an administrator.`;
    case 'provider_email_missing':
      return p
        ? $localize`:@@core.providerErrors.emailMissing:${p}:provider: did not give a verified email address, which a new account needs. Verify your email there, or sign up here.`
        : $localize`:@@core.providerErrors.emailMissingUnnamed:The provider did not give a verified email address, which a new account needs. Verify your email there, or sign up here.`;
    case 'provider_link_required':
      return p
        ? $localize`:@@core.providerErrors.linkRequired:An account with this email already exists. Sign in to it, then link ${p}:provider: from your account, under Linked sign-ins.`
        : $localize`:@@core.providerErrors.linkRequiredUnnamed:An account with this email already exists. Sign in to it, then link the provider from your account, under Linked sign-ins.`;
    case 'provider_no_account':
      return p
        ? $localize`:@@core.providerErrors.noAccount:No account here is linked to that ${p}:provider: identity, and none can be made with it. Sign in another way, or ask an administrator.`
        : $localize`:@@core.providerErrors.noAccountUnnamed:No account here is linked to that identity at the provider, and none can be made with it. Sign in another way, or ask an administrator.`;
    case 'provider_account_refused':
      return $localize`:@@core.providerErrors.accountRefused:That account cannot sign in here: it is disabled, or a service account.`;
    case 'provider_linked_elsewhere':
      return p
        ? $localize`:@@core.providerErrors.linkedElsewhere:That ${p}:provider: identity is already linked to another account. Unlink it there first, then try again.`
        : $localize`:@@core.providerErrors.linkedElsewhereUnnamed:That identity at the provider is already linked to another account. Unlink it there first, then try again.`;
    case 'too_many_requests':
      return $localize`:@@core.providerErrors.tooManyRequests:Too many sign-in attempts from this address. Wait a minute, then try again.`;
    case 'invalid_request':
      return $localize`:@@core.providerErrors.invalidRequest:That sign-in address was malformed. Start again from this page.`;
    case 'provider_failed':
      return $localize`:@@core.providerErrors.failed:Something went wrong on our side while signing you in. Try again in a moment.`;
    default:
      return null;
  }
}

/** The sentence for `code`; `provider` is its display name when known. */
export function providerErrorMessage(code: string, provider?: string | null): string {
  const name = provider && provider.trim() !== '' ? provider : null;
  const message = sentence(code, name);
  if (message !== null) return capitalise(message);
  return $localize`:@@core.providerErrors.fallback:Signing in with the other provider did not work. Try again, or sign in another way.`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Keeps the display name of the provider this tab is being sent to, for its error sentence. */
export function rememberProvider(storage: Storage | undefined, displayName: string): void {
  try {
    storage?.setItem(LAST_PROVIDER_KEY, displayName);
  } catch {
    // A browser that refuses storage: the sentence says "the provider".
  }
}

/** The display name `rememberProvider` kept, once: it is forgotten as it is read. */
export function takeRememberedProvider(storage: Storage | undefined): string | null {
  try {
    const name = storage?.getItem(LAST_PROVIDER_KEY) ?? null;
    storage?.removeItem(LAST_PROVIDER_KEY);
    return name;
  } catch {
    return null;
  }
}
