//! `portcullis client`: OpenID Connect clients (docs/API.md §5, "Clients").
use clap::Subcommand;

use crate::auth::keys::KeyAlg;
use crate::auth::notify::Notifier;
use crate::clock::{rfc3339, Clock};
use crate::config::Settings;
use crate::domain::oauth::DEVICE_CODE;
use crate::service::admin::Actor;
use crate::service::clients::{self, ClientChange, ClientSettings, NewClient};

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Register a client; a confidential one's secret is printed this once.
    Create {
        #[arg(long)]
        name: String,
        /// Where codes may be sent, matched byte for byte; repeat for several. Needed unless
        /// the client has no authorization_code grant.
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// Where RP-initiated logout may return to; repeat for several.
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_uris: Vec<String>,
        /// No secret (a browser or native app); PKCE is then required.
        #[arg(long)]
        public: bool,
        /// Space- or comma-separated; default all of openid profile email roles groups offline_access.
        #[arg(long)]
        scopes: Option<String>,
        /// The algorithm its ID tokens are signed with: RS256 (the default, which every
        /// relying party can check), ES256 or EdDSA.
        #[arg(long = "id-token-alg")]
        id_token_alg: Option<KeyAlg>,
        /// A grant it may use; repeat for several: authorization_code, refresh_token,
        /// client_credentials, device_code. Default: authorization_code and refresh_token,
        /// and client_credentials for a confidential client.
        #[arg(long = "grant-type")]
        grant_types: Vec<String>,
        /// Its access tokens' lifetime in seconds (30 to 86400; never longer than the
        /// server's). Default: the server's.
        #[arg(long = "access-token-lifetime")]
        access_token_ttl: Option<i64>,
        /// Where it takes back-channel logout tokens (OpenID Connect Back-Channel Logout).
        #[arg(long = "backchannel-logout-uri")]
        backchannel_logout_uri: Option<String>,
        /// Authorization requests only through the PAR endpoint (RFC 9126).
        #[arg(long)]
        require_par: bool,
        /// Only DPoP-bound tokens (RFC 9449).
        #[arg(long)]
        require_dpop: bool,
        /// A first-party application: its users are not asked for consent.
        #[arg(long)]
        first_party: bool,
    },
    /// Change a client's settings; what is not given stays as it is.
    Update {
        client_id: String,
        #[arg(long)]
        name: Option<String>,
        /// Replaces the redirect URIs; repeat for several.
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// Replaces the grants it may use; repeat for several.
        #[arg(long = "grant-type")]
        grant_types: Vec<String>,
        /// Seconds; 0: the server's.
        #[arg(long = "access-token-lifetime")]
        access_token_ttl: Option<i64>,
        /// An empty value removes it.
        #[arg(long = "backchannel-logout-uri")]
        backchannel_logout_uri: Option<String>,
        #[arg(long = "require-par")]
        require_par: Option<bool>,
        #[arg(long = "require-dpop")]
        require_dpop: Option<bool>,
        #[arg(long = "first-party")]
        first_party: Option<bool>,
    },
    /// List the registered clients.
    List,
    /// Remove a client and the consents given to it.
    Delete { client_id: String },
}

pub async fn run(settings: &Settings, command: ClientCommand) -> anyhow::Result<()> {
    let db = super::open_db(settings).await?;
    let clock = Clock::default();
    match command {
        ClientCommand::Create {
            name,
            redirect_uris,
            post_logout_uris,
            public,
            scopes,
            id_token_alg,
            grant_types,
            access_token_ttl,
            backchannel_logout_uri,
            require_par,
            require_dpop,
            first_party,
        } => {
            let scopes = scopes.map(|s| {
                s.split([' ', ','])
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            });
            let registered = clients::register(
                &db,
                &Clock::default(),
                Actor::CommandLine { force: false },
                NewClient {
                    name,
                    redirect_uris,
                    post_logout_uris,
                    public,
                    scopes,
                    id_token_alg,
                    settings: ClientSettings {
                        grant_types: (!grant_types.is_empty()).then(|| full_names(grant_types)),
                        access_token_ttl,
                        backchannel_logout_uri,
                        require_par,
                        require_dpop,
                        first_party,
                    },
                },
            )
            .await?;
            println!("client_id:     {}", registered.client.client_id);
            match registered.secret {
                Some(secret) => {
                    println!("client_secret: {secret}");
                    println!("(the secret is shown this once; keep it in the client's settings)");
                }
                None => println!("public client: no secret; use PKCE (S256)"),
            }
            println!(
                "issuer:        {} (discovery at /.well-known/openid-configuration)",
                settings.public_base()
            );
        }
        ClientCommand::Update {
            client_id,
            name,
            redirect_uris,
            grant_types,
            access_token_ttl,
            backchannel_logout_uri,
            require_par,
            require_dpop,
            first_party,
        } => {
            let change = ClientChange {
                name,
                redirect_uris: (!redirect_uris.is_empty()).then_some(redirect_uris),
                grant_types: (!grant_types.is_empty()).then(|| Some(full_names(grant_types))),
                access_token_ttl: access_token_ttl.map(|secs| (secs != 0).then_some(secs)),
                backchannel_logout_uri: backchannel_logout_uri
                    .map(|uri| (!uri.is_empty()).then_some(uri)),
                require_par,
                require_dpop,
                first_party,
                ..ClientChange::default()
            };
            let operator = Actor::CommandLine { force: false };
            let c = clients::update(&notifier(&db, &clock), operator, &client_id, change).await?;
            println!("Client {} updated: {}", c.client_id, describe(&c));
        }
        ClientCommand::List => {
            for c in clients::list(&db).await? {
                println!(
                    "{}  {}  {}  created {}",
                    c.client_id,
                    if c.public {
                        "public      "
                    } else {
                        "confidential"
                    },
                    describe(&c),
                    rfc3339(c.created_at)
                );
            }
        }
        ClientCommand::Delete { client_id } => {
            let operator = Actor::CommandLine { force: false };
            clients::delete(&notifier(&db, &clock), operator, &client_id).await?;
            println!("Client {client_id} removed.");
        }
    }
    Ok(())
}

/// `device_code` is short for the device grant's URN.
fn full_names(grants: Vec<String>) -> Vec<String> {
    grants
        .into_iter()
        .flat_map(|g| {
            g.split([' ', ','])
                .filter(|s| !s.is_empty())
                .map(|s| match s {
                    "device_code" => DEVICE_CODE.to_string(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn describe(c: &crate::store::oauth_clients::ClientRecord) -> String {
    let mut text = format!(
        "{}  scopes: {}  grants: {}  redirect: {}  id tokens: {}",
        c.name,
        c.scopes.join(" "),
        clients::grant_types(c)
            .iter()
            .map(|g| if *g == DEVICE_CODE { "device_code" } else { g })
            .collect::<Vec<_>>()
            .join(" "),
        c.redirect_uris.join(" "),
        clients::id_token_alg(c),
    );
    if let Some(ttl) = c.access_token_ttl {
        text.push_str(&format!("  access tokens: {ttl} s"));
    }
    if let Some(uri) = &c.backchannel_logout_uri {
        text.push_str(&format!("  back-channel logout: {uri}"));
    }
    for (on, what) in [
        (c.require_par, "PAR required"),
        (c.require_dpop, "DPoP required"),
        (c.first_party, "first-party"),
    ] {
        if on {
            text.push_str("  ");
            text.push_str(what);
        }
    }
    text
}

/// The running nodes hear of a change through the `cache_events` table.
fn notifier<'a>(db: &'a crate::db::Db, clock: &'a Clock) -> Notifier<'a> {
    Notifier {
        db,
        clock,
        redis: None,
        cache: None,
    }
}
