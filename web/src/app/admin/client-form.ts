import {
  AbstractControl,
  FormControl,
  NonNullableFormBuilder,
  ValidationErrors,
  Validators,
} from '@angular/forms';

import {
  ACCESS_TOKEN_LIFETIME_MAX,
  ACCESS_TOKEN_LIFETIME_MIN,
  DEFAULT_ID_TOKEN_ALG,
  DEVICE_CODE_GRANT,
  GrantType,
  IdTokenAlg,
  NewOAuthClient,
  OAUTH_SCOPES,
  OAuthClient,
  OAuthClientChange,
  OAuthScope,
  defaultGrantTypes,
} from '../core/oauth-api';

/**
 * The form of a client, shared by "New client" and each client's Edit: the fields as typed
 * (URIs one a line, the lifetime as a number or empty), and the two ways to the server's JSON:
 * `newClientBody` (a registration, the settings left at their defaults left out) and
 * `clientChange` (a PATCH of what differs from the client as listed).
 */

/**
 * The grant checkboxes: a control name each (a URN makes a poor one), in the server's order.
 * Their labels are `describeGrantType(grant)`, their help `grantHelp(key)`.
 */
export const GRANT_CHOICES: readonly {
  key: GrantKey;
  grant: GrantType;
}[] = [
  { key: 'authorization_code', grant: 'authorization_code' },
  { key: 'refresh_token', grant: 'refresh_token' },
  { key: 'client_credentials', grant: 'client_credentials' },
  { key: 'device_code', grant: DEVICE_CODE_GRANT },
];

/** What a grant checkbox lets the client do, in the page's language. */
export function grantHelp(key: GrantKey): string {
  switch (key) {
    case 'authorization_code':
      return $localize`:@@clients.form.grantHelpAuthorizationCode:People sign in in the browser and are sent back to a redirect URI.`;
    case 'refresh_token':
      return $localize`:@@clients.form.grantHelpRefreshToken:Stays signed in with a refresh token (with the offline_access scope).`;
    case 'client_credentials':
      return $localize`:@@clients.form.grantHelpClientCredentials:Gets tokens of its own, with no person signed in (confidential clients only).`;
    case 'device_code':
      return $localize`:@@clients.form.grantHelpDeviceCode:A device without a browser (a TV, a command-line tool) shows a code that people enter on the /device page.`;
  }
}

export type GrantKey = 'authorization_code' | 'refresh_token' | 'client_credentials' | 'device_code';

/** A textarea's lines, trimmed, without the empty ones. */
export function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/**
 * At least one redirect URI, where the client may use the authorization code grant (the only
 * one that needs them).
 */
function redirectUrisNeeded(control: AbstractControl<string>): ValidationErrors | null {
  const code = control.parent?.get('grantTypes.authorization_code');
  const needed = code ? code.value === true : true;
  return needed && lines(control.value).length === 0 ? { required: true } : null;
}

/** One grant at least that gets a token by itself (a refresh token alone never does). */
function someMainGrant(group: AbstractControl): ValidationErrors | null {
  const grants = group.value as Partial<Record<GrantKey, boolean>>;
  return grants.authorization_code || grants.client_credentials || grants.device_code
    ? null
    : { noGrant: true };
}

function wholeNumber(control: AbstractControl<number | null>): ValidationErrors | null {
  return control.value === null || Number.isInteger(control.value) ? null : { wholeNumber: true };
}

export type ClientForm = ReturnType<typeof buildClientForm>;

/** The form's value, disabled fields included. */
export type ClientFormValue = ReturnType<ClientForm['getRawValue']>;

/**
 * A client's form: empty with the defaults of a new confidential client, or filled with
 * `client`'s registration (whose kind, public or not, cannot change: its box is disabled).
 * A public client's client_credentials box is unticked and disabled; on a new client it
 * follows the Public box, and comes back as it was when Public is unticked again.
 */
export function buildClientForm(fb: NonNullableFormBuilder, client?: OAuthClient) {
  const isPublic = client?.public ?? false;
  const grants = new Set<string>(client?.grantTypes ?? defaultGrantTypes(isPublic));
  const scopes = new Set<string>(client?.scopes ?? OAUTH_SCOPES);
  const scope = (name: OAuthScope) => scopes.has(name);
  const grant = (name: GrantType) => grants.has(name);
  const form = fb.group({
    name: [client?.name ?? '', [Validators.required, Validators.pattern(/\S/)]],
    redirectUris: [client?.redirectUris.join('\n') ?? '', redirectUrisNeeded],
    postLogoutRedirectUris: [client?.postLogoutRedirectUris.join('\n') ?? ''],
    public: [{ value: isPublic, disabled: client !== undefined }],
    /** Sent always on a new client, so it gets what the form shows (RS256 unless changed). */
    idTokenSignedResponseAlg: [(client?.idTokenSignedResponseAlg ?? DEFAULT_ID_TOKEN_ALG) as IdTokenAlg],
    scopes: fb.group({
      openid: [scope('openid')],
      profile: [scope('profile')],
      email: [scope('email')],
      roles: [scope('roles')],
      groups: [scope('groups')],
      offline_access: [scope('offline_access')],
    }),
    grantTypes: fb.group(
      {
        authorization_code: [grant('authorization_code')],
        refresh_token: [grant('refresh_token')],
        client_credentials: [{ value: !isPublic && grant('client_credentials'), disabled: isPublic }],
        device_code: [grant(DEVICE_CODE_GRANT)],
      },
      { validators: someMainGrant },
    ),
    /** Seconds; null (an empty field): the server's lifetime. */
    accessTokenLifetime: new FormControl<number | null>(client?.accessTokenLifetime ?? null, {
      nonNullable: true,
      validators: [
        Validators.min(ACCESS_TOKEN_LIFETIME_MIN),
        Validators.max(ACCESS_TOKEN_LIFETIME_MAX),
        wholeNumber,
      ],
    }),
    backchannelLogoutUri: [client?.backchannelLogoutUri ?? ''],
    requirePushedAuthorizationRequests: [client?.requirePushedAuthorizationRequests ?? false],
    dpopBoundAccessTokens: [client?.dpopBoundAccessTokens ?? false],
    firstParty: [client?.firstParty ?? false],
  });
  const { redirectUris, grantTypes } = form.controls;
  // Whether redirect URIs are needed turns on the authorization code box.
  redirectUris.updateValueAndValidity();
  grantTypes.controls.authorization_code.valueChanges.subscribe(() => redirectUris.updateValueAndValidity());
  if (client === undefined) {
    const credentials = grantTypes.controls.client_credentials;
    let wanted = credentials.value;
    form.controls.public.valueChanges.subscribe((nowPublic) => {
      if (nowPublic && credentials.enabled) {
        wanted = credentials.value;
        credentials.setValue(false);
        credentials.disable();
      } else if (!nowPublic && credentials.disabled) {
        credentials.enable();
        credentials.setValue(wanted);
      }
    });
  }
  return form;
}

/** The grants ticked, in the server's order. */
export function chosenGrantTypes(value: ClientFormValue): GrantType[] {
  return GRANT_CHOICES.filter((choice) => value.grantTypes[choice.key]).map((choice) => choice.grant);
}

function chosenScopes(value: ClientFormValue): OAuthScope[] {
  return OAUTH_SCOPES.filter((scope) => value.scopes[scope]);
}

/** The same strings, in any order. */
export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((item) => right.has(item));
}

/** The same strings, in the same order. */
function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

/** The back-channel logout URI as typed: null when empty. */
function backchannelUri(value: ClientFormValue): string | null {
  const uri = value.backchannelLogoutUri.trim();
  return uri === '' ? null : uri;
}

/**
 * `POST /api/admin/clients`: what the form says, the settings that are at their defaults
 * (the kind's grants, the server's lifetime, no back-channel URI, the flags off) left out, so
 * a client registered with the defaults keeps following them.
 */
export function newClientBody(value: ClientFormValue): NewOAuthClient {
  const body: NewOAuthClient = {
    name: value.name.trim(),
    redirectUris: lines(value.redirectUris),
    postLogoutRedirectUris: lines(value.postLogoutRedirectUris),
    public: value.public,
    scopes: chosenScopes(value),
    idTokenSignedResponseAlg: value.idTokenSignedResponseAlg,
  };
  const grants = chosenGrantTypes(value);
  if (!sameSet(grants, defaultGrantTypes(value.public))) body.grantTypes = grants;
  if (value.accessTokenLifetime !== null) body.accessTokenLifetime = value.accessTokenLifetime;
  const backchannel = backchannelUri(value);
  if (backchannel !== null) body.backchannelLogoutUri = backchannel;
  if (value.requirePushedAuthorizationRequests) body.requirePushedAuthorizationRequests = true;
  if (value.dpopBoundAccessTokens) body.dpopBoundAccessTokens = true;
  if (value.firstParty) body.firstParty = true;
  return body;
}

/**
 * `PATCH /api/admin/clients/{clientId}`: only what differs from `client` (an empty object
 * when nothing does). Scopes and grants are sets (the server keeps them in its own order);
 * URIs are lists. Grants that changed are sent as ticked, even when they are the defaults;
 * an emptied lifetime or back-channel URI is sent as null (the server's; none).
 */
export function clientChange(client: OAuthClient, value: ClientFormValue): OAuthClientChange {
  const change: OAuthClientChange = {};
  const name = value.name.trim();
  if (name !== client.name) change.name = name;
  const redirectUris = lines(value.redirectUris);
  if (!sameList(redirectUris, client.redirectUris)) change.redirectUris = redirectUris;
  const logoutUris = lines(value.postLogoutRedirectUris);
  if (!sameList(logoutUris, client.postLogoutRedirectUris)) change.postLogoutRedirectUris = logoutUris;
  const scopes = chosenScopes(value);
  if (!sameSet(scopes, client.scopes)) change.scopes = scopes;
  if (value.idTokenSignedResponseAlg !== client.idTokenSignedResponseAlg) {
    change.idTokenSignedResponseAlg = value.idTokenSignedResponseAlg;
  }
  const grants = chosenGrantTypes(value);
  if (!sameSet(grants, client.grantTypes)) change.grantTypes = grants;
  if (value.accessTokenLifetime !== client.accessTokenLifetime) {
    change.accessTokenLifetime = value.accessTokenLifetime;
  }
  const backchannel = backchannelUri(value);
  if (backchannel !== (client.backchannelLogoutUri ?? null)) change.backchannelLogoutUri = backchannel;
  if (value.requirePushedAuthorizationRequests !== client.requirePushedAuthorizationRequests) {
    change.requirePushedAuthorizationRequests = value.requirePushedAuthorizationRequests;
  }
  if (value.dpopBoundAccessTokens !== client.dpopBoundAccessTokens) {
    change.dpopBoundAccessTokens = value.dpopBoundAccessTokens;
  }
  if (value.firstParty !== client.firstParty) change.firstParty = value.firstParty;
  return change;
}

/** `n` seconds, minutes or hours in the page's language (one and other: German and Spanish need no more). */
function lifetimeUnit(n: number, unit: 'second' | 'minute' | 'hour'): string {
  switch (unit) {
    case 'second':
      return n === 1
        ? $localize`:@@clients.form.oneSecond:${n}:count: second`
        : $localize`:@@clients.form.seconds:${n}:count: seconds`;
    case 'minute':
      return n === 1
        ? $localize`:@@clients.form.oneMinute:${n}:count: minute`
        : $localize`:@@clients.form.minutes:${n}:count: minutes`;
    case 'hour':
      return n === 1
        ? $localize`:@@clients.form.oneHour:${n}:count: hour`
        : $localize`:@@clients.form.hours:${n}:count: hours`;
  }
}

/** A lifetime for people: `15 minutes`, `1 hour 30 minutes`, `90 seconds`. */
export function describeLifetime(seconds: number): string {
  const parts: string[] = [];
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (rest !== 0 && seconds < 3600) return lifetimeUnit(seconds, 'second');
  if (hours > 0) parts.push(lifetimeUnit(hours, 'hour'));
  if (minutes > 0) parts.push(lifetimeUnit(minutes, 'minute'));
  if (rest > 0) parts.push(lifetimeUnit(rest, 'second'));
  return parts.join(' ');
}

/** Whether the form group has been touched or changed and is invalid (shows its errors). */
export function showErrors(control: AbstractControl): boolean {
  return control.invalid && (control.dirty || control.touched);
}
