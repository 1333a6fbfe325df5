import { Component, input } from '@angular/core';
import { ReactiveFormsModule } from '@angular/forms';

import {
  ACCESS_TOKEN_LIFETIME_MAX,
  ACCESS_TOKEN_LIFETIME_MIN,
  DEFAULT_ID_TOKEN_ALG,
  ID_TOKEN_ALGS,
  OAUTH_SCOPES,
  describeGrantType,
} from '../core/oauth-api';
import { ClientForm, GRANT_CHOICES, describeLifetime, grantHelp, showErrors } from './client-form';

/**
 * The fields of a client's form (client-form.ts), for "New client" and for each client's Edit:
 * name, URIs, scopes and ID token algorithm, then grants, access token lifetime, back-channel
 * logout and the PAR, DPoP and first-party switches. The ids start with `prefix` (the new
 * client's are `client-…`). A client's kind (public or confidential) is chosen only when it
 * is registered; afterwards the form says which it is.
 */
@Component({
  selector: 'app-client-fields',
  imports: [ReactiveFormsModule],
  templateUrl: './client-fields.html',
})
export class ClientFields {
  readonly form = input.required<ClientForm>();
  /** The start of every field's id: `client` for a new client, `edit-client` for an Edit. */
  readonly prefix = input.required<string>();
  /** A registration (the Public box shows), or a change to a registered client. */
  readonly isNew = input(false);

  protected readonly SCOPES = OAUTH_SCOPES;
  protected readonly ID_TOKEN_ALGS = ID_TOKEN_ALGS;
  protected readonly DEFAULT_ID_TOKEN_ALG = DEFAULT_ID_TOKEN_ALG;
  protected readonly GRANTS = GRANT_CHOICES;
  protected readonly LIFETIME_MIN = ACCESS_TOKEN_LIFETIME_MIN;
  protected readonly LIFETIME_MAX = ACCESS_TOKEN_LIFETIME_MAX;
  protected readonly showErrors = showErrors;
  protected readonly grantLabel = describeGrantType;
  protected readonly grantHelp = grantHelp;

  protected id(field: string): string {
    return `${this.prefix()}-${field}`;
  }

  /** The lifetime typed, in words, when it is one the server takes. */
  protected lifetimeInWords(): string | null {
    const control = this.form().controls.accessTokenLifetime;
    return control.valid && control.value !== null ? describeLifetime(control.value) : null;
  }
}
