/**
 * What the login page (and the account console, for a link) says when a sign-in with another identity
 * provider ended at `/login?error=<code>` (docs/API.md §2, "Signing in with a provider"). The
 * address carries only the code, so the provider's name is the one this browser last chose, if
 * it is known (`rememberProvider`), or "the provider".
 */

/** Where the provider last chosen in this tab is kept (its display name only; never a token). */
const LAST_PROVIDER_KEY = 'portcullis.lastProvider';

/** The sentence for each code the callback and the start send the browser back with. */
const MESSAGES: Record<string, (provider: string) => string> = {
  provider_unknown: () => 'That sign-in option is not available: it may have been turned off. Sign in another way.',
  provider_unavailable: (p) => `${p} could not be reached. Try again in a moment.`,
  provider_refused: (p) => `The sign-in at ${p} was cancelled or refused. Try again, or sign in another way.`,
  provider_state_invalid: () =>
    'That sign-in expired, was already used, or was started in another browser. Start it again from this page.',
  provider_issuer_mismatch: (p) =>
    `The answer did not come from ${p} as expected, so nobody was signed in. Start again from this page.`,
  provider_token_invalid: (p) =>
    `The answer from ${p} could not be verified, so nobody was signed in. Try again, or tell an administrator.`,
  provider_email_missing: (p) =>
    `${p} did not give a verified email address, which a new account needs. Verify your email there, or sign up here.`,
  provider_link_required: (p) =>
    `An account with this email already exists. Sign in to it, then link ${p} from your account, under Linked sign-ins.`,
  provider_no_account: (p) =>
    `No account here is linked to that ${p} identity, and none can be made with it. Sign in another way, or ask an administrator.`,
  provider_account_refused: () => 'That account cannot sign in here: it is disabled, or a service account.',
  provider_linked_elsewhere: (p) =>
    `That ${p} identity is already linked to another account. Unlink it there first, then try again.`,
  too_many_requests: () => 'Too many sign-in attempts from this address. Wait a minute, then try again.',
  invalid_request: () => 'That sign-in address was malformed. Start again from this page.',
  provider_failed: () => 'Something went wrong on our side while signing you in. Try again in a moment.',
};

/** The sentence for `code`; `provider` is its display name when known. */
export function providerErrorMessage(code: string, provider?: string | null): string {
  const name = provider && provider.trim() !== '' ? provider : 'the provider';
  const message = MESSAGES[code];
  if (message) return capitalise(message(name));
  return 'Signing in with the other provider did not work. Try again, or sign in another way.';
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
