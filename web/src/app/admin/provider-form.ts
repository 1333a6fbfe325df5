import {
  AbstractControl,
  FormArray,
  FormControl,
  FormGroup,
  NonNullableFormBuilder,
  ValidationErrors,
  ValidatorFn,
  Validators,
} from '@angular/forms';

import { NewProvider, ProviderChange, ProviderItem } from '../core/api.models';
import { roleLabel } from './role-label';

/**
 * The forms of the identity providers page: a new provider (its kind decides which settings
 * it takes, as docs/API.md's table of kinds says) and a provider's Edit (its name, who gets an
 * account, allowed domains, whether it counts as both factors, a new secret, the roles from
 * the provider), and the ways from what was typed to the server's JSON.
 */

export type ProviderKind = 'oidc' | 'oauth2' | 'github' | 'google' | 'microsoft' | 'gitlab' | 'apple';

/** The kinds, in the select's order. */
export const PROVIDER_KIND_ORDER: readonly ProviderKind[] = ['oidc', 'oauth2', 'github', 'google', 'microsoft', 'gitlab', 'apple'];

/** A kind as people know it (any other kind: as it is). */
export function providerKindLabel(kind: string): string {
  switch (kind) {
    case 'oidc':
      return $localize`:@@providers.kinds.oidc:OpenID Connect`;
    case 'oauth2':
      return $localize`:@@providers.kinds.oauth2:OAuth 2 (user-info endpoint)`;
    case 'github':
      return 'GitHub';
    case 'google':
      return 'Google';
    case 'microsoft':
      return 'Microsoft';
    case 'gitlab':
      return 'GitLab';
    case 'apple':
      return 'Apple';
    default:
      return kind;
  }
}

/** The kinds, in the select's order, as people know them. */
export function providerKinds(): { kind: ProviderKind; label: string }[] {
  return PROVIDER_KIND_ORDER.map((kind) => ({ kind, label: providerKindLabel(kind) }));
}

export type SignupPolicy = 'existing' | 'domains' | 'open';

/** Who gets a new account at a first sign-in. */
export function signupLabel(policy: SignupPolicy): string {
  switch (policy) {
    case 'existing':
      return $localize`:@@providers.signup.existing:Nobody: only existing accounts sign in`;
    case 'domains':
      return $localize`:@@providers.signup.domains:Verified emails of the allowed domains`;
    case 'open':
      return $localize`:@@providers.signup.open:Anyone with a verified email`;
  }
}

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

/** `roleMapping`: the roles and groups an upstream claim gives at each sign-in. */
export type RoleMapping = NonNullable<NewProvider['roleMapping']>;
export type MappingRule = RoleMapping['rules'][number];

/** A claim's name: 1 to 64 of `A-Z a-z 0-9 _ - . : /`. */
export const CLAIM = /^[A-Za-z0-9_.:/-]{1,64}$/;
/** GitHub's only claim: the person's organisations (the server then asks for `read:org`). */
export const GITHUB_CLAIM = 'orgs';
/** Rules a mapping holds at most. */
export const MAX_RULES = 50;
/** Roles, and groups, a rule names at most (each). */
export const MAX_RULE_NAMES = 20;
/** A rule's value's longest, and a role's or group's name's, in UTF-8 bytes as the server counts. */
const MAX_RULE_VALUE = 255;
const MAX_RULE_NAME = 64;

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** Role or group names typed with commas (or spaces) between them, each once. */
export function names(text: string): string[] {
  return [...new Set(words(text))];
}

/**
 * What a roles or groups field with `text` typed in it may become: each of `known` not named
 * yet after what is typed up to the last comma or space (a datalist offers whole values, so
 * each offer keeps the names before it).
 */
export function suggestions(text: string, known: readonly string[]): string[] {
  const prefix = text.slice(0, text.search(/[^\s,]*$/));
  const named = new Set(words(prefix));
  return known.filter((name) => !named.has(name)).map((name) => prefix + name);
}

/** A rule as typed: its roles and groups as text. */
export interface RuleText {
  value: string;
  roles: string;
  groups: string;
}

/** A row with anything typed in it: an empty one is left out. */
function ruleFilled(rule: RuleText): boolean {
  return rule.value.trim() !== '' || words(rule.roles).length > 0 || words(rule.groups).length > 0;
}

/**
 * A filled row's errors: `value` (1 to 255 characters, none a control character),
 * `namesRequired` (no role nor group), `names` (more than 20 roles or groups, or a name over 64
 * characters).
 */
const ruleValid: ValidatorFn = (group: AbstractControl): ValidationErrors | null => {
  const rule = group.value as RuleText;
  if (!ruleFilled(rule)) return null;
  const errors: ValidationErrors = {};
  const value = rule.value.trim();
  if (value === '' || utf8Length(value) > MAX_RULE_VALUE || /\p{Cc}/u.test(value)) errors['value'] = true;
  const roles = names(rule.roles);
  const groups = names(rule.groups);
  if (roles.length + groups.length === 0) errors['namesRequired'] = true;
  else if (
    roles.length > MAX_RULE_NAMES ||
    groups.length > MAX_RULE_NAMES ||
    [...roles, ...groups].some((name) => utf8Length(name) > MAX_RULE_NAME)
  ) {
    errors['names'] = true;
  }
  return Object.keys(errors).length > 0 ? errors : null;
};

/** The claim's name, when one is typed (`claimRequired` says when one is needed). */
const claimName: ValidatorFn = (control: AbstractControl): ValidationErrors | null => {
  const claim = ((control.value as string | null) ?? '').trim();
  return claim === '' || CLAIM.test(claim) ? null : { claim: true };
};

/** A claim, when any row is filled. */
const claimWhenRules: ValidatorFn = (group: AbstractControl): ValidationErrors | null => {
  const value = group.value as { claim: string; rules: RuleText[] };
  return value.rules.some(ruleFilled) && value.claim.trim() === '' ? { claimRequired: true } : null;
};

/** A row of the roles-from-the-provider editor. */
export function ruleForm(rule: RuleText = { value: '', roles: '', groups: '' }) {
  return new FormGroup(
    {
      value: new FormControl(rule.value, { nonNullable: true }),
      roles: new FormControl(rule.roles, { nonNullable: true }),
      groups: new FormControl(rule.groups, { nonNullable: true }),
    },
    { validators: ruleValid },
  );
}

export type RuleForm = ReturnType<typeof ruleForm>;

/** The roles-from-the-provider editor: the claim read, and its rules (none at first). */
export function buildMappingForm() {
  return new FormGroup(
    {
      claim: new FormControl('', { nonNullable: true, validators: claimName }),
      rules: new FormArray<RuleForm>([]),
    },
    { validators: claimWhenRules },
  );
}

export type MappingForm = ReturnType<typeof buildMappingForm>;
export type MappingFormValue = ReturnType<MappingForm['getRawValue']>;

/** A provider's mapping as the editor shows it (GitHub's claim is always `orgs`). */
export function mappingValue(mapping: RoleMapping | null | undefined, kind: string): MappingFormValue {
  return {
    claim: kind === 'github' ? GITHUB_CLAIM : (mapping?.claim ?? ''),
    rules: (mapping?.rules ?? []).map((rule) => ({
      value: rule.value,
      roles: (rule.roles ?? []).join(', '),
      groups: (rule.groups ?? []).join(', '),
    })),
  };
}

/** Gives the editor a row for each of `value`'s rules and resets it to `value`. */
export function resetMapping(form: MappingForm, value: MappingFormValue): void {
  form.controls.rules.clear({ emitEvent: false });
  for (const rule of value.rules) form.controls.rules.push(ruleForm(rule), { emitEvent: false });
  form.reset(value);
}

/** The mapping as sent: the filled rows (null when none is), GitHub's claim `orgs`. */
export function mappingBody(value: MappingFormValue, kind: string): RoleMapping | null {
  const rules: MappingRule[] = value.rules.filter(ruleFilled).map((rule) => ({
    value: rule.value.trim(),
    roles: names(rule.roles),
    groups: names(rule.groups),
  }));
  if (rules.length === 0) return null;
  return { claim: kind === 'github' ? GITHUB_CLAIM : value.claim.trim(), rules };
}

/** Whether two mappings say the same (the server answers both lists, even empty). */
function sameMapping(a: RoleMapping | null, b: RoleMapping | null): boolean {
  const plain = (m: RoleMapping | null) =>
    m === null
      ? null
      : { claim: m.claim, rules: m.rules.map((r) => ({ value: r.value, roles: r.roles ?? [], groups: r.groups ?? [] })) };
  return JSON.stringify(plain(a)) === JSON.stringify(plain(b));
}

/** A summary for the list: "Roles from groups: 2 rules" (null without a mapping). */
export function mappingSummary(provider: ProviderItem): string | null {
  const mapping = provider.roleMapping;
  if (!mapping || mapping.rules.length === 0) return null;
  const count = mapping.rules.length;
  const roles = [...new Set(mapping.rules.flatMap((rule) => rule.roles ?? []))].map(roleLabel);
  const groups = [...new Set(mapping.rules.flatMap((rule) => rule.groups ?? []))].map(
    (group) => $localize`:@@providers.mapping.summaryGroup:group ${group}:group:`,
  );
  const gives = [...roles, ...groups].join(', ');
  const claim = mapping.claim;
  if (count === 1) {
    return gives === ''
      ? $localize`:@@providers.mapping.summaryOne:Roles from ${claim}:claim:: 1 rule`
      : $localize`:@@providers.mapping.summaryOneGives:Roles from ${claim}:claim:: 1 rule (${gives}:gives:)`;
  }
  return gives === ''
    ? $localize`:@@providers.mapping.summaryOther:Roles from ${claim}:claim:: ${count}:count: rules`
    : $localize`:@@providers.mapping.summaryOtherGives:Roles from ${claim}:claim:: ${count}:count: rules (${gives}:gives:)`;
}

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
      roleMapping: buildMappingForm(),
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
  // GitHub's claim is `orgs`, fixed; leaving GitHub takes it away unless it was typed.
  const claim = c.roleMapping.controls.claim;
  if (kind === 'github') claim.setValue(GITHUB_CLAIM, { emitEvent: false });
  else if (claim.value === GITHUB_CLAIM && !claim.dirty) claim.setValue('', { emitEvent: false });
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
  const mapping = mappingBody(value.roleMapping, kind);
  if (mapping !== null) body.roleMapping = mapping;
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
      roleMapping: buildMappingForm(),
    },
    { validators: domainsWhenNeeded },
  );
}

/**
 * The Edit form's fields for `provider`, as it is listed (no secret: it never comes out).
 * `resetMapping` gives the form the mapping's rows before a reset fills them.
 */
export function editValue(provider: ProviderItem): EditFormValue {
  return {
    displayName: provider.displayName,
    signup: signupOf(provider),
    allowedDomains: (provider.allowedDomains ?? []).join(', '),
    trustedForMfa: provider.trustedForMfa ?? false,
    clientSecret: '',
    roleMapping: mappingValue(provider.roleMapping, provider.kind),
  };
}

export type EditForm = ReturnType<typeof buildEditForm>;
export type EditFormValue = ReturnType<EditForm['getRawValue']>;

/**
 * A PATCH of what the Edit form changed (nothing else): the name, the sign-up policy and its
 * domains, whether it counts as both factors, a new secret when one was typed, and the
 * mapping (null when its last filled row went).
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
  const mapping = mappingBody(value.roleMapping, provider.kind);
  if (!sameMapping(mapping, provider.roleMapping ?? null)) change.roleMapping = mapping;
  return change;
}
