import { HttpErrorResponse } from '@angular/common/http';

import { errorMessage } from './errors';

/** A `…/start` answer of a registration: the options to hand to the browser, as JSON. */
export interface PasskeyCreationOptions {
  publicKey: PublicKeyCredentialCreationOptionsJSON;
}

/** A `…/start` answer of a sign-in (or a second step) with a passkey. */
export interface PasskeyRequestOptions {
  publicKey: PublicKeyCredentialRequestOptionsJSON;
}

/** A credential as the `…/finish` routes take it: `PublicKeyCredential.toJSON()`. */
export type PasskeyCredentialJSON = PublicKeyCredentialJSON;

/**
 * Whether this browser can do passkeys the way the app does them (WebAuthn with the JSON
 * helpers). Where it cannot, the app offers no passkey buttons at all.
 */
export function passkeysSupported(): boolean {
  const pkc = typeof window === 'undefined' ? undefined : window.PublicKeyCredential;
  return (
    typeof pkc === 'function' &&
    typeof pkc.parseCreationOptionsFromJSON === 'function' &&
    typeof pkc.parseRequestOptionsFromJSON === 'function' &&
    typeof navigator.credentials?.get === 'function'
  );
}

/**
 * Whether the browser offers passkeys in a field's autofill (WebAuthn conditional mediation).
 * Never rejects: any doubt is a no.
 */
export async function passkeyAutofillAvailable(): Promise<boolean> {
  if (!passkeysSupported()) return false;
  try {
    return (await PublicKeyCredential.isConditionalMediationAvailable?.()) === true;
  } catch {
    return false;
  }
}

/** The browser's passkey dialog gave no credential (the user closed it, or it timed out). */
export class PasskeyCancelled extends Error {
  constructor() {
    super($localize`:@@core.passkeys.cancelledError:The passkey request was cancelled.`);
    this.name = 'PasskeyCancelled';
  }
}

/** Creates a passkey with the server's registration options; the credential as JSON. */
export async function createPasskey(options: PasskeyCreationOptions): Promise<PasskeyCredentialJSON> {
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(withoutNulls(options.publicKey));
  const credential = (await navigator.credentials.create({ publicKey })) as PublicKeyCredential | null;
  if (!credential) throw new PasskeyCancelled();
  return credential.toJSON();
}

/**
 * How a passkey is asked for: `conditional` offers the passkeys in the username field's
 * autofill instead of a dialog; `signal` aborts the request.
 */
export interface PasskeyRequestInit {
  mediation?: CredentialMediationRequirement;
  signal?: AbortSignal;
}

/** Asks the browser for a passkey with the server's request options; the assertion as JSON. */
export async function getPasskey(
  options: PasskeyRequestOptions,
  init: PasskeyRequestInit = {},
): Promise<PasskeyCredentialJSON> {
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(withoutNulls(options.publicKey));
  const credential = (await navigator.credentials.get({ publicKey, ...init })) as PublicKeyCredential | null;
  if (!credential) throw new PasskeyCancelled();
  return credential.toJSON();
}

/**
 * What to tell the user when a passkey ceremony or its requests fail: the browser's
 * refusals in plain words, the server's answers as `errorMessage` words them.
 */
export function passkeyErrorMessage(error: unknown): string {
  if (error instanceof HttpErrorResponse) {
    return errorMessage(error);
  }
  if (error instanceof PasskeyCancelled) {
    return $localize`:@@core.passkeys.cancelled:No passkey was used: the request was cancelled. Try again when you are ready.`;
  }
  const name = error instanceof DOMException || error instanceof Error ? error.name : '';
  switch (name) {
    case 'NotAllowedError':
      return $localize`:@@core.passkeys.notAllowed:No passkey was used: the request was cancelled or timed out. Try again when you are ready.`;
    case 'AbortError':
      return $localize`:@@core.passkeys.aborted:The passkey request was interrupted. Try again.`;
    case 'InvalidStateError':
      return $localize`:@@core.passkeys.invalidState:This device already holds a passkey for your account.`;
    case 'SecurityError':
      return $localize`:@@core.passkeys.security:Passkeys are not allowed on this address. Open the site at its usual address and try again.`;
    case 'NotSupportedError':
      return $localize`:@@core.passkeys.notSupported:This browser or device cannot use a passkey here.`;
    default:
      return $localize`:@@core.passkeys.failed:The passkey could not be used. Try again, or use another way to sign in.`;
  }
}

/**
 * The options without `null` members: WebAuthn's JSON dictionaries have optional members,
 * not nullable ones, and the browser refuses `null` where it expects an enum value.
 */
function withoutNulls<T>(value: T): T {
  if (Array.isArray(value)) {
    return value.map((v) => withoutNulls(v)) as T;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(value)) {
      if (member !== null) out[key] = withoutNulls(member);
    }
    return out as T;
  }
  return value;
}
