//! `portcullis keys`: the signing keys every node shares (docs/API.md §5, "Signing keys").
use clap::Subcommand;

use crate::auth::key_store;
use crate::auth::keys::KeyAlg;
use crate::clock::Clock;
use crate::config::Settings;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// List the published keys: kid, algorithm, when each signs and retires.
    List,
    /// Add a key of each algorithm that signs in a minute (published at once, so every node
    /// and relying party knows it first); the others stay published until their tokens
    /// expired.
    Rotate,
}

pub async fn run(settings: &Settings, command: KeysCommand) -> anyhow::Result<()> {
    let db = super::open_db(settings).await?;
    let sealer = crate::app::sealer(settings)?;
    let now = Clock::default().now_ms();
    // The first keys exist before any list or rotation, as they would after a first start.
    key_store::ensure(&db, &sealer, now).await?;
    if let KeysCommand::Rotate = command {
        // Every algorithm at once: the ID tokens of some client and the access tokens of
        // all are signed with one of them.
        for alg in KeyAlg::ALL {
            let (kid, activates) =
                key_store::rotate(&db, &sealer, alg, now, settings.access_ttl).await?;
            println!(
                "New {alg} key {kid}: published now, signing from {} (in {} s).",
                rfc3339(activates),
                (activates - now) / 1000
            );
        }
    }
    let ring = key_store::load(&db, &sealer, now).await?;
    let signing: Vec<String> = KeyAlg::ALL
        .into_iter()
        .filter_map(|alg| ring.signing(alg, now / 1000).map(|k| k.kid.clone()))
        .collect();
    for key in ring.keys() {
        let role = if signing.contains(&key.kid) {
            "signing"
        } else if key.activates_at > now / 1000 {
            "published, signs later"
        } else {
            "published, retiring"
        };
        println!(
            "{}  {:5}  {}  activates {}  retires {}",
            key.kid,
            key.alg.name(),
            role,
            rfc3339(key.activates_at * 1000),
            key.retires_at
                .map(|at| rfc3339(at * 1000))
                .unwrap_or_else(|| "-".into())
        );
    }
    Ok(())
}

fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}
