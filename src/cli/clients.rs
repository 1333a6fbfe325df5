//! `portcullis client`: OpenID Connect clients (docs/API.md §5, "Clients").
use clap::Subcommand;

use crate::auth::keys::KeyAlg;
use crate::clock::{rfc3339, Clock};
use crate::config::Settings;
use crate::service::admin::Actor;
use crate::service::clients::{self, NewClient};

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Register a client; a confidential one's secret is printed this once.
    Create {
        #[arg(long)]
        name: String,
        /// Where codes may be sent, matched byte for byte; repeat for several.
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// Where RP-initiated logout may return to; repeat for several.
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_uris: Vec<String>,
        /// No secret (a browser or native app); PKCE is then required.
        #[arg(long)]
        public: bool,
        /// Space- or comma-separated; default all of openid profile email roles offline_access.
        #[arg(long)]
        scopes: Option<String>,
        /// The algorithm its ID tokens are signed with: RS256 (the default, which every
        /// relying party can check), ES256 or EdDSA.
        #[arg(long = "id-token-alg")]
        id_token_alg: Option<KeyAlg>,
    },
    /// List the registered clients.
    List,
    /// Remove a client and the consents given to it.
    Delete { client_id: String },
}

pub async fn run(settings: &Settings, command: ClientCommand) -> anyhow::Result<()> {
    let db = super::open_db(settings).await?;
    match command {
        ClientCommand::Create {
            name,
            redirect_uris,
            post_logout_uris,
            public,
            scopes,
            id_token_alg,
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
        ClientCommand::List => {
            for c in clients::list(&db).await? {
                println!(
                    "{}  {}  {}  scopes: {}  redirect: {}  id tokens: {}  created {}",
                    c.client_id,
                    if c.public {
                        "public      "
                    } else {
                        "confidential"
                    },
                    c.name,
                    c.scopes.join(" "),
                    c.redirect_uris.join(" "),
                    clients::id_token_alg(&c),
                    rfc3339(c.created_at)
                );
            }
        }
        ClientCommand::Delete { client_id } => {
            let operator = Actor::CommandLine { force: false };
            clients::delete(&db, &Clock::default(), operator, &client_id).await?;
            println!("Client {client_id} removed.");
        }
    }
    Ok(())
}
