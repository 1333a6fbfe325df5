import {
  AbstractControl,
  NonNullableFormBuilder,
  ValidationErrors,
  ValidatorFn,
  Validators,
} from '@angular/forms';

import { NewProvider, ProviderChange, ProviderItem } from '../core/api.models';

/**
 * The forms of the identity providers page: a new provider (its kind decides which settings
 * it takes, as docs/API.md's table of kinds says) and a provider's Edit (its name, who gets an
 * account, allowed domains, whether it counts as both factors, a new secret), and the ways
 * from what was typed to the server's JSON.
 */

export type ProviderKind = 'oidc' | 'oauth2' | 'github' | 'google' | 'microsoft' | 'gitlab' | 'apple';

/** The kinds, in the select's order, as people know them. */
export const PROVIDER_KINDS: readonly { kind: ProviderKind; label: string }[] = [
  { kind: 'oidc', label: 'OpenID Connect' },
  { kind: 'oauth2', label: 'OAuth 2 (user-info endpoint)' },
  { kind: 'github', label: 'GitHub' },
  { kind: 'google', label: 'Google' },
  { kind: 'microsoft', label: 'Microsoft' },
  { kind: 'gitlab', label: 'GitLab' },
  { kind: 'apple', label: 'Apple' },
];

export type SignupPolicy = 'existing' | 'domains' | 'open';

/** Who gets a new account at a first sign-in. */
export const SIGNUP_LABELS: Record<SignupPolicy, string> = {
  existing: 'Nobody: only existing accounts sign in',
  domains: 'Verified emails of the allowed domains',
  open: 'Anyone with a verified email',
};

/** The settings a kind takes beyond those every kind takes (docs/API.md, "Identity providers"). */
export type KindSetting = 'issuer' | 'baseUrl' | 'tenant' | 'endpoints' | 'claims' | 'apple';

/**
 * `issuer` is required of `oidc` only: a preset that takes it has its own by default (a
 * self-managed GitLab, a proxy before Google or Apple). `baseUrl` is a GitHub Enterprise
 * Server's URL, or the authority host of a Microsoft national cloud.
 */
export const KIND_SETTINGS: Record<ProviderKind, readonly KindSetting[]> = {
  oidc: ['issuer'],
  oauth2: ['endpoints', 'claims'],
  github: ['baseUrl'],
  google: ['issuer'],
  microsoft: ['tenant', 'baseUrl'],
  gitlab: ['issuer'],
  apple: ['apple', 'issuer'],
};

/** The presets need a client secret; `oidc` and `oauth2` may be public clients. */
export function secretRequired(kind: ProviderKind): boolean {
  return kind !== 'oidc' && kind !== 'oauth2';
}

/** A provider's id: 1 to 32 of `a-z 0-9 -`, starting with a letter. */
export const PROVIDER_ID = /^[a-z][a-z0-9-]{0,31}$/;

/** A URL's longest, as the server takes it. */
const MAX_URL = 512;

/** A host where nothing on the wire can be read or changed: 127.0.0.0/8, ::1, `localhost`. */
function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * An issuer, endpoint or base URL as the server takes one: https, or http on a loopback host
 * only (a provider run on the same machine), without credentials or a fragment, and without a
 * query unless `query` (a base URL has none). Empty passes: `Validators.required` says when
 * one is needed.
 */
export function providerUrl(query = true): ValidatorFn {
  return (control: AbstractControl): ValidationErrors | null => {
    const value = ((control.value as string | null) ?? '').trim();
    if (value === '') return null;
    const invalid = { providerUrl: true };
    if (!/^https?:\/\//i.test(value) || /\s/.test(value) || value.includes('#') || (!query && value.includes('?'))) {
      return invalid;
    }
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return invalid;
    }
    const secure = url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
    return secure && url.username === '' && url.password === '' ? null : invalid;
  };
}

/** A JSON pointer into the user-info answer (`/id`, `/data/email`). */
const POINTER = /^\/\S*$/;

/** Apple's team and key ids: 10 characters each. */
const APPLE_ID = /^[A-Za-z0-9]{10}$/;

/** A `data:` image URL the server takes as an icon. */
const ICON = /^data:image\/(svg\+xml|png;base64)[,;]/;

/** Names typed one a line, or separated by commas or spaces; empty ones dropped. */
export function words(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((w) => w.trim())
    .filter((w) => w !== '');
}

/** Text as sent for an optional setting: null when empty. */
function optional(text: string): string | null {
  const trimmed = text.trim();
  return trimmed === '' ? null : trimmed;
}

/** At least one domain, when the sign-up policy is `domains`. */
const domainsWhenNeeded: ValidatorFn = (group: AbstractControl): ValidationErrors | null => {
  const signup = group.get('signup')?.value as SignupPolicy | undefined;
  const domains = (group.get('allowedDomains')?.value as string | undefined) ?? '';
  return signup === 'domains' && words(domains).length === 0 ? { domainsRequired: true } : null;
};

export function buildProviderForm(fb: NonNullableFormBuilder) {
  return fb.group(
    {
      kind: fb.control<ProviderKind>('oidc'),
      id: ['', [Validators.required, Validators.pattern(PROVIDER_ID)]],
      displayName: ['', [Validators.required, Validators.maxLength(64), Validators.pattern(/\S/)]],
      icon: ['', [Validators.maxLength(16 * 1024), Validators.pattern(ICON)]],
      clientId: ['', [Validators.required, Validators.maxLength(255), Validators.pattern(/\S/)]],
      clientSecret: [''],
      issuer: [''],
      baseUrl: [''],
      tenant: [''],
      authorizationEndpoint: [''],
      tokenEndpoint: [''],
      userinfoEndpoint: [''],
      claimId: [''],
      claimUsername: ['', Validators.pattern(POINTER)],
      claimEmail: ['', Validators.pattern(POINTER)],
      claimEmailVerified: ['', Validators.pattern(POINTER)],
      teamId: [''],
      keyId: [''],
      scopes: [''],
      signup: fb.control<SignupPolicy>('existing'),
      allowedDomains: [''],
      trustedForMfa: [false],
      enabled: [true],
    },
    { validators: domainsWhenNeeded },
  );
}

export type ProviderForm = ReturnType<typeof buildProviderForm>;
export type ProviderFormValue = ReturnType<ProviderForm['getRawValue']>;

/** Gives the kind's settings their validators, and takes them from the others'. */
export function applyKind(form: ProviderForm, kind: ProviderKind): void {
  const takes = KIND_SETTINGS[kind];
  const c = form.controls;
  const set = (control: AbstractControl, validators: ValidatorFn[]) => {
    control.setValidators(validators);
    control.updateValueAndValidity({ emitEvent: false });
  };
  const url = [Validators.maxLength(MAX_URL), providerUrl()];
  set(c.issuer, kind === 'oidc' ? [Validators.required, ...url] : takes.includes('issuer') ? url : []);
  set(c.baseUrl, takes.includes('baseUrl') ? [Validators.maxLength(MAX_URL), providerUrl(false)] : []);
  for (const endpoint of [c.authorizationEndpoint, c.tokenEndpoint, c.userinfoEndpoint]) {
    set(endpoint, takes.includes('endpoints') ? [Validators.required, ...url] : []);
  }
  set(c.claimId, takes.includes('claims') ? [Validators.required, Validators.pattern(POINTER)] : []);
  for (const id of [c.teamId, c.keyId]) {
    set(id, takes.includes('apple') ? [Validators.required, Validators.pattern(APPLE_ID)] : []);
  }
  set(c.clientSecret, secretRequired(kind) ? [Validators.required, Validators.pattern(/\S/)] : []);
  form.updateValueAndValidity({ emitEvent: false });
}

/**
 * A new provider as sent: the settings of its kind (the others left out, which the server
 * would refuse), optional ones only when given.
 */
export function newProviderBody(value: ProviderFormValue): NewProvider {
  const kind = value.kind;
  const takes = KIND_SETTINGS[kind];
  const body: NewProvider = {
    id: value.id.trim(),
    kind,
    displayName: value.displayName.trim(),
    clientId: value.clientId.trim(),
    signup: value.signup,
    trustedForMfa: value.trustedForMfa,
    enabled: value.enabled,
  };
  // Apple's is a PEM key, whose lines stay as typed (only the ends are trimmed).
  const secret = value.clientSecret.trim();
  if (secret !== '') body.clientSecret = secret;
  const icon = optional(value.icon);
  if (icon !== null) body.icon = icon;
  const scopes = words(value.scopes);
  if (scopes.length > 0) body.scopes = scopes;
  if (value.signup === 'domains') body.allowedDomains = words(value.allowedDomains);
  if (takes.includes('issuer')) {
    const issuer = optional(value.issuer);
    if (issuer !== null) body.issuer = issuer;
  }
  if (takes.includes('baseUrl')) {
    const baseUrl = optional(value.baseUrl);
    if (baseUrl !== null) body.baseUrl = baseUrl;
  }
  if (takes.includes('tenant')) {
    const tenant = optional(value.tenant);
    if (tenant !== null) body.tenant = tenant;
  }
  if (takes.includes('endpoints')) {
    body.authorizationEndpoint = value.authorizationEndpoint.trim();
    body.tokenEndpoint = value.tokenEndpoint.trim();
    body.userinfoEndpoint = value.userinfoEndpoint.trim();
  }
  if (takes.includes('claims')) {
    body.claims = {
      id: value.claimId.trim(),
      username: optional(value.claimUsername),
      email: optional(value.claimEmail),
      emailVerified: optional(value.claimEmailVerified),
    };
  }
  if (takes.includes('apple')) {
    body.teamId = value.teamId.trim();
    body.keyId = value.keyId.trim();
  }
  return body;
}

/** A provider's sign-up policy, as listed (`existing` when the server has none). */
export function signupOf(provider: ProviderItem): SignupPolicy {
  const signup = provider.signup;
  return signup === 'open' || signup === 'domains' ? signup : 'existing';
}

export function buildEditForm(fb: NonNullableFormBuilder) {
  return fb.group(
    {
      displayName: ['', [Validators.required, Validators.maxLength(64), Validators.pattern(/\S/)]],
      signup: fb.control<SignupPolicy>('existing'),
      allowedDomains: [''],
      trustedForMfa: [false],
      clientSecret: [''],
    },
    { validators: domainsWhenNeeded },
  );
}

/** The Edit form's fields for `provider`, as it is listed (no secret: it never comes out). */
export function editValue(provider: ProviderItem): EditFormValue {
  return {
    displayName: provider.displayName,
    signup: signupOf(provider),
    allowedDomains: (provider.allowedDomains ?? []).join(', '),
    trustedForMfa: provider.trustedForMfa ?? false,
    clientSecret: '',
  };
}

export type EditForm = ReturnType<typeof buildEditForm>;
export type EditFormValue = ReturnType<EditForm['getRawValue']>;

/**
 * A PATCH of what the Edit form changed (nothing else): the name, the sign-up policy and its
 * domains, whether it counts as both factors, and a new secret when one was typed.
 */
export function providerChange(provider: ProviderItem, value: EditFormValue): ProviderChange {
  const change: ProviderChange = {};
  const name = value.displayName.trim();
  if (name !== provider.displayName) change.displayName = name;
  if (value.signup !== signupOf(provider)) change.signup = value.signup;
  const domains = value.signup === 'domains' ? words(value.allowedDomains) : [];
  const had = provider.allowedDomains ?? [];
  if (domains.length !== had.length || domains.some((d, i) => d !== had[i])) change.allowedDomains = domains;
  if (value.trustedForMfa !== (provider.trustedForMfa ?? false)) change.trustedForMfa = value.trustedForMfa;
  const secret = value.clientSecret.trim();
  if (secret !== '') change.clientSecret = secret;
  return change;
}
