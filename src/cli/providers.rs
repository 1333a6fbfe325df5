//! `portcullis provider`: the upstream identity providers people may sign in with
//! (docs/API.md §2, "Identity providers"). They go through the admin API's use cases: the
//! same checks, the same lock, and the same audit trail (marked `cli`). A client secret is
//! only ever read from standard input, since arguments show in `ps`.
use std::io::BufRead;

use anyhow::{anyhow, Context};
use clap::{ArgGroup, Args, Subcommand};
use secrecy::SecretString;
use serde_json::{json, Map, Value};

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::domain::{ProviderConfig, SignupPolicy};
use crate::service::admin::{Actor, AdminError};
use crate::service::providers::{self, NewProvider, Ports, Provider, ProviderChange};

#[derive(Subcommand)]
pub enum ProviderCommand {
    /// List every provider, one a line: its id, kind, whether it is enabled, display name,
    /// client id, signup policy, whether a client secret is set, and how many identities
    /// are linked through it.
    List,
    /// Configure a provider. Which settings a kind takes: docs/API.md, "Identity providers".
    Add {
        /// Its name in URLs: 1 to 32 of a-z, 0-9 and -, starting with a letter.
        id: String,
        /// oidc, oauth2, github, google, microsoft, gitlab or apple.
        #[arg(long)]
        kind: String,
        /// The name on the sign-in button (1 to 64 characters).
        #[arg(long = "name", value_name = "DISPLAY_NAME")]
        display_name: String,
        /// The client id the provider gave Portcullis.
        #[arg(long)]
        client_id: String,
        /// Read the client secret from the first line of standard input (required for
        /// the presets; for apple, the .p8 key file that signs Apple's client secret,
        /// read whole up to its -----END line).
        #[arg(long)]
        client_secret_stdin: bool,
        // Boxed, as at `Update`: inline, they would make every `Command` their size.
        #[command(flatten)]
        settings: Box<SettingFlags>,
        /// Its sign-in counts as both factors: no second step follows it.
        #[arg(long)]
        trusted_for_mfa: bool,
        /// Configure it without letting anyone sign in with it yet.
        #[arg(long)]
        disabled: bool,
    },
    /// Change a provider's settings, secret or state; what is not given stays as it is.
    /// The id and kind never change (delete it and add another).
    #[command(group(
        ArgGroup::new("change")
            .required(true)
            .multiple(true)
            .args([
                "display_name", "client_id", "issuer_url", "base_url", "tenant", "authorization_endpoint",
                "token_endpoint", "userinfo_endpoint", "claim_id", "team_id", "key_id",
                "scopes", "signup", "allowed_domains", "role_mapping", "trusted_for_mfa",
                "client_secret_stdin", "clear_client_secret", "enable", "disable",
            ])
    ))]
    Update {
        /// The provider's id.
        id: String,
        /// The name on the sign-in button (1 to 64 characters).
        #[arg(long = "name", value_name = "DISPLAY_NAME")]
        display_name: Option<String>,
        /// The client id the provider gave Portcullis.
        #[arg(long)]
        client_id: Option<String>,
        /// Read a new client secret from the first line of standard input (a PEM key file
        /// whole).
        #[arg(long)]
        client_secret_stdin: bool,
        /// Remove the client secret (a public client; the presets need one).
        #[arg(long, conflicts_with = "client_secret_stdin")]
        clear_client_secret: bool,
        #[command(flatten)]
        settings: Box<SettingFlags>,
        /// Whether its sign-in counts as both factors.
        #[arg(long, value_name = "true|false")]
        trusted_for_mfa: Option<bool>,
        /// Let people sign in with it again.
        #[arg(long)]
        enable: bool,
        /// Stop sign-ins with it; its settings and linked identities stay.
        #[arg(long, conflicts_with = "enable")]
        disable: bool,
    },
    /// Delete a provider. One that accounts have identities at is refused unless
    /// --cascade is given.
    Delete {
        /// The provider's id.
        id: String,
        /// Unlink every account's identity at it too (the accounts keep every other way
        /// to sign in).
        #[arg(long)]
        cascade: bool,
    },
}

/// The settings `add` and `update` share. At `update`, an empty value removes an optional
/// setting, and a list given replaces the provider's.
#[derive(Args)]
pub struct SettingFlags {
    // Not `--issuer`: that is the global setting PORTCULLIS_ISSUER, whose value (its
    // default included) clap would hand to a subcommand's argument of the same name.
    /// oidc: the issuer (discovery); gitlab: a self-managed instance's URL; google, apple:
    /// another issuer than theirs (a proxy).
    #[arg(long, value_name = "URL")]
    issuer_url: Option<String>,
    /// github: a GitHub Enterprise Server's URL; microsoft: a national cloud's authority
    /// host, such as https://login.microsoftonline.us.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// microsoft: a tenant id or domain, or common (the default), organizations, consumers.
    #[arg(long)]
    tenant: Option<String>,
    /// oauth2 (required there, as the next two).
    #[arg(long, value_name = "URL")]
    authorization_endpoint: Option<String>,
    #[arg(long, value_name = "URL")]
    token_endpoint: Option<String>,
    #[arg(long, value_name = "URL")]
    userinfo_endpoint: Option<String>,
    /// oauth2: a JSON pointer to the account's id in the user-info answer, such as /id.
    /// The --claim-* flags set the pointers together, replacing the provider's.
    #[arg(long, value_name = "POINTER")]
    claim_id: Option<String>,
    #[arg(long, value_name = "POINTER", requires = "claim_id")]
    claim_username: Option<String>,
    #[arg(long, value_name = "POINTER", requires = "claim_id")]
    claim_email: Option<String>,
    #[arg(long, value_name = "POINTER", requires = "claim_id")]
    claim_email_verified: Option<String>,
    /// apple: the team that signs the client secret (10 characters).
    #[arg(long)]
    team_id: Option<String>,
    /// apple: the key that signs the client secret (10 characters).
    #[arg(long)]
    key_id: Option<String>,
    /// A scope to ask for; repeat for several. Default: the kind's own.
    #[arg(long = "scope", value_name = "SCOPE")]
    scopes: Vec<String>,
    /// Who gets a new account at a first sign-in: open, domains (verified emails of
    /// --allowed-domain) or existing (nobody: the default).
    #[arg(long, value_parser = ["open", "domains", "existing"])]
    signup: Option<String>,
    /// A domain whose verified emails may sign up (with --signup domains); repeat for
    /// several.
    #[arg(long = "allowed-domain", value_name = "DOMAIN")]
    allowed_domains: Vec<String>,
    /// Roles and groups from an upstream claim, as JSON:
    /// '{"claim":"groups","rules":[{"value":"ops","roles":["moderator"],"groups":["ops"]}]}'.
    #[arg(long, value_name = "JSON")]
    role_mapping: Option<String>,
}

impl SettingFlags {
    /// The settings given, by their JSON names. `removable`: an empty value becomes `null`,
    /// which removes the setting (at `update`).
    fn into_json(self, removable: bool) -> Map<String, Value> {
        let mut map = Map::new();
        let text = |value: String| {
            if removable && value.is_empty() {
                Value::Null
            } else {
                Value::String(value)
            }
        };
        for (name, value) in [
            ("issuer", self.issuer_url),
            ("baseUrl", self.base_url),
            ("tenant", self.tenant),
            ("authorizationEndpoint", self.authorization_endpoint),
            ("tokenEndpoint", self.token_endpoint),
            ("userinfoEndpoint", self.userinfo_endpoint),
            ("teamId", self.team_id),
            ("keyId", self.key_id),
            ("signup", self.signup),
        ] {
            if let Some(value) = value {
                map.insert(name.into(), text(value));
            }
        }
        if let Some(mapping) = self.role_mapping {
            // Not JSON: given as the string, which the settings' parser then refuses.
            let value = match serde_json::from_str::<Value>(&mapping) {
                Ok(json) => json,
                Err(_) => text(mapping),
            };
            map.insert("roleMapping".into(), value);
        }
        if let Some(id) = self.claim_id {
            let mut claims = Map::new();
            claims.insert("id".into(), Value::String(id));
            for (name, value) in [
                ("username", self.claim_username),
                ("email", self.claim_email),
                ("emailVerified", self.claim_email_verified),
            ] {
                if let Some(value) = value {
                    claims.insert(name.into(), Value::String(value));
                }
            }
            map.insert("claims".into(), Value::Object(claims));
        }
        if !self.scopes.is_empty() {
            map.insert("scopes".into(), json!(self.scopes));
        }
        if !self.allowed_domains.is_empty() {
            map.insert("allowedDomains".into(), json!(self.allowed_domains));
        }
        map
    }
}

pub async fn run(settings: &Settings, command: ProviderCommand) -> anyhow::Result<()> {
    if matches!(
        command,
        ProviderCommand::Add { .. } | ProviderCommand::Update { .. }
    ) {
        refuse_the_global_issuer()?;
    }
    // Before the database is opened: a bad key-encryption key changes nothing.
    let sealer = crate::app::provider_sealer(settings)?;
    let db = super::open_db(settings).await?;
    let clock = Clock::default();
    let ports = Ports {
        db: &db,
        clock: &clock,
        sealer: &sealer,
    };
    let done = run_provider(ports, command).await;
    db.pool.close().await;
    done
}

async fn run_provider(ports: Ports<'_>, command: ProviderCommand) -> anyhow::Result<()> {
    match command {
        ProviderCommand::List => list(ports.db).await?,
        ProviderCommand::Add {
            id,
            kind,
            display_name,
            client_id,
            client_secret_stdin,
            settings,
            trusted_for_mfa,
            disabled,
        } => {
            let mut config = settings.into_json(false);
            config.insert("displayName".into(), Value::String(display_name));
            config.insert("clientId".into(), Value::String(client_id));
            config.insert("trustedForMfa".into(), Value::Bool(trusted_for_mfa));
            let config: ProviderConfig = serde_json::from_value(Value::Object(config))
                .map_err(|e| anyhow!("The provider's settings: {e}."))?;
            let client_secret = if client_secret_stdin {
                Some(secret_from_stdin()?)
            } else {
                None
            };
            let new = NewProvider {
                id: id.clone(),
                kind,
                config,
                client_secret,
                enabled: !disabled,
            };
            let added = providers::create(ports, operator(), new)
                .await
                .map_err(|e| failure(e, &id))?;
            println!("Provider {} ({}) added.", added.id, added.kind.name());
        }
        ProviderCommand::Update {
            id,
            display_name,
            client_id,
            client_secret_stdin,
            clear_client_secret,
            settings,
            trusted_for_mfa,
            enable,
            disable,
        } => {
            let mut changed = settings.into_json(true);
            if let Some(name) = display_name {
                changed.insert("displayName".into(), Value::String(name));
            }
            if let Some(client_id) = client_id {
                changed.insert("clientId".into(), Value::String(client_id));
            }
            if let Some(trusted) = trusted_for_mfa {
                changed.insert("trustedForMfa".into(), Value::Bool(trusted));
            }
            let client_secret = if client_secret_stdin {
                Some(Some(secret_from_stdin()?))
            } else {
                clear_client_secret.then_some(None)
            };
            let change = ProviderChange {
                settings: changed,
                client_secret,
                enabled: if enable {
                    Some(true)
                } else {
                    disable.then_some(false)
                },
            };
            providers::update(ports, operator(), &id, change)
                .await
                .map_err(|e| failure(e, &id))?;
            println!("Provider {id} updated.");
        }
        ProviderCommand::Delete { id, cascade } => {
            providers::delete(ports, operator(), &id, cascade)
                .await
                .map_err(|e| failure(e, &id))?;
            println!("Provider {id} deleted.");
        }
    }
    Ok(())
}

async fn list(db: &Db) -> anyhow::Result<()> {
    for provider in providers::list(db).await? {
        println!("{}", describe(&provider));
    }
    Ok(())
}

fn describe(p: &Provider) -> String {
    let signup = match p.config.signup {
        SignupPolicy::Open => "open".to_string(),
        SignupPolicy::Existing => "existing".to_string(),
        SignupPolicy::Domains => format!("domains ({})", p.config.allowed_domains.join(" ")),
    };
    format!(
        "{}  {}  {}  name: {}  client: {}  signup: {}  {}  identities: {}",
        p.id,
        p.kind.name(),
        if p.enabled { "enabled" } else { "disabled" },
        p.config.display_name,
        p.config.client_id,
        signup,
        if p.has_secret { "secret" } else { "no secret" },
        p.identities
    )
}

/// `--issuer` parses here as the setting PORTCULLIS_ISSUER, which these commands do not
/// use: left alone, a gitlab provider's `--issuer` would be dropped without a word.
fn refuse_the_global_issuer() -> anyhow::Result<()> {
    let named = std::env::args().any(|a| a == "--issuer" || a.starts_with("--issuer="));
    if named {
        anyhow::bail!(
            "a provider's issuer is given with --issuer-url (--issuer is the setting PORTCULLIS_ISSUER)"
        );
    }
    Ok(())
}

/// The first line of standard input, without its line ending (`\n` or `\r\n`); a PEM
/// block (Apple's `.p8` key file) when that line begins one, up to its `-----END` line.
fn secret_from_stdin() -> anyhow::Result<SecretString> {
    read_secret(&mut std::io::stdin().lock())
}

fn read_secret(input: &mut impl BufRead) -> anyhow::Result<SecretString> {
    let mut next_line = || -> anyhow::Result<Option<String>> {
        let mut line = String::new();
        let read = input
            .read_line(&mut line)
            .context("reading the client secret from standard input")?;
        let line = line.strip_suffix('\n').unwrap_or(&line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        Ok((read > 0).then(|| line.to_string()))
    };
    let first = next_line()?.unwrap_or_default();
    if !first.starts_with("-----BEGIN ") {
        return Ok(SecretString::from(first));
    }
    let mut pem = vec![first];
    while let Some(line) = next_line()? {
        let end = line.starts_with("-----END ");
        pem.push(line);
        if end {
            break;
        }
    }
    Ok(SecretString::from(pem.join("\n") + "\n"))
}

/// The command line acts with an admin's authority; `--force` is only for the last-admin
/// rule, which these commands never meet.
fn operator() -> Actor<'static> {
    Actor::CommandLine { force: false }
}

/// One line for an operator; `id` is the provider the command named.
fn failure(e: AdminError, id: &str) -> anyhow::Error {
    match e {
        AdminError::NotFound => anyhow!("no provider with the id `{id}`"),
        AdminError::NameTaken => anyhow!("a provider with the id `{id}` already exists"),
        // The use case's refusal speaks of the API's `cascade`; here it is a flag.
        AdminError::InUse(message) => anyhow!(
            "{}",
            message.replace("delete with cascade", "repeat with --cascade")
        ),
        AdminError::Invalid(message) => anyhow!("{message}"),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn a_secret_is_its_first_line_or_a_whole_pem_block() {
        let read = |input: &str| {
            read_secret(&mut std::io::Cursor::new(input.as_bytes()))
                .unwrap()
                .expose_secret()
                .to_string()
        };
        assert_eq!(read("s3cret\r\nnext line\n"), "s3cret");
        assert_eq!(read(""), "");
        let pem = "-----BEGIN PRIVATE KEY-----\nMIGH\nAgEA\n-----END PRIVATE KEY-----\n";
        assert_eq!(read(&format!("{pem}trailing\n")), pem);
        assert_eq!(read(&pem.replace('\n', "\r\n")), pem);
    }
}
