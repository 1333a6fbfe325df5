//! `portcullis branding`: the product name, colour, footer link and logo the pages and mails
//! show (docs/API.md §2, "Branding"), through the admin API's use cases: the same checks,
//! the same lock, and the same audit trail (marked `cli`).
use std::path::PathBuf;

use anyhow::{anyhow, Context};
use clap::{ArgGroup, Subcommand};

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::domain::branding::{LogoRejection, LogoType};
use crate::service::admin::{Actor, AdminError};
use crate::service::branding::{self, Branding, BrandingChange};

#[derive(Subcommand)]
pub enum BrandingCommand {
    /// Print the branding as the pages get it.
    Show,
    /// Change the name, colour or footer link; what is not named stays as it is.
    #[command(group(
        ArgGroup::new("change")
            .required(true)
            .multiple(true)
            .args(["product_name", "primary_color", "footer_text", "footer_url", "reset"])
    ))]
    Set {
        /// 1 to 60 characters.
        #[arg(long)]
        product_name: Option<String>,
        /// `#rrggbb`, or `none` for the app's own colours.
        #[arg(long, value_name = "#RRGGBB|none")]
        primary_color: Option<String>,
        /// The footer link's text (with --footer-url), or `none` to remove the link.
        #[arg(long)]
        footer_text: Option<String>,
        #[arg(long, value_name = "URL")]
        footer_url: Option<String>,
        /// Back to the defaults (the logo stays; `branding logo --remove` takes it).
        #[arg(long, conflicts_with_all = ["product_name", "primary_color", "footer_text", "footer_url"])]
        reset: bool,
    },
    /// Set the logo from a PNG, JPEG, WebP or SVG file (at most 64 KiB), or remove it.
    Logo {
        #[arg(required_unless_present = "remove")]
        file: Option<PathBuf>,
        #[arg(long, conflicts_with = "file")]
        remove: bool,
    },
}

pub async fn run(settings: &Settings, command: BrandingCommand) -> anyhow::Result<()> {
    let db = super::open_db(settings).await?;
    let done = run_branding(&db, &Clock::default(), command).await;
    db.pool.close().await;
    done
}

async fn run_branding(db: &Db, clock: &Clock, command: BrandingCommand) -> anyhow::Result<()> {
    let operator = Actor::CommandLine { force: false };
    let done = match command {
        BrandingCommand::Show => branding::get(db).await?,
        BrandingCommand::Set {
            product_name,
            primary_color,
            footer_text,
            footer_url,
            reset,
        } => {
            let change = if reset {
                BrandingChange::default()
            } else {
                changed(
                    branding::get(db).await?,
                    product_name,
                    primary_color,
                    footer_text,
                    footer_url,
                )?
            };
            branding::update(db, clock, operator, change)
                .await
                .map_err(failure)?
        }
        BrandingCommand::Logo { remove: true, .. } => branding::remove_logo(db, clock, operator)
            .await
            .map_err(failure)?,
        BrandingCommand::Logo { file, .. } => {
            let file = file.ok_or_else(|| anyhow!("name a logo file, or --remove"))?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let kind = kind_of(&file, &bytes)?;
            branding::set_logo(db, clock, operator, kind, bytes)
                .await
                .map_err(failure)?
        }
    };
    println!("{}", describe(&done));
    Ok(())
}

/// The whole new branding: the current one with what the flags name replaced.
fn changed(
    now: Branding,
    product_name: Option<String>,
    primary_color: Option<String>,
    footer_text: Option<String>,
    footer_url: Option<String>,
) -> anyhow::Result<BrandingChange> {
    let none = |v: &str| v.eq_ignore_ascii_case("none");
    let footer = now.footer_link.map(|f| (f.text, f.url));
    let footer_link = match (footer_text, footer_url) {
        (Some(text), _) if none(&text) => None,
        (Some(text), Some(url)) => Some((text, url)),
        (Some(text), None) => Some((
            text,
            footer
                .map(|(_, url)| url)
                .ok_or_else(|| anyhow!("a new footer link needs --footer-url"))?,
        )),
        (None, Some(url)) => Some((
            footer
                .map(|(text, _)| text)
                .ok_or_else(|| anyhow!("a new footer link needs --footer-text"))?,
            url,
        )),
        (None, None) => footer,
    };
    Ok(BrandingChange {
        product_name: Some(product_name.unwrap_or(now.product_name)),
        primary_color: match primary_color {
            Some(c) if none(&c) => None,
            Some(c) => Some(c),
            None => now.primary_color,
        },
        footer_link,
    })
}

/// The logo's kind by its file name, checked against its bytes.
fn kind_of(file: &std::path::Path, bytes: &[u8]) -> anyhow::Result<LogoType> {
    let extension = file
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let content_type = match extension.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        _ => "",
    };
    LogoType::check(content_type, bytes).map_err(|why| match why {
        LogoRejection::Type => anyhow!("a logo is a .png, .jpg, .webp or .svg file"),
        LogoRejection::TooLarge => {
            anyhow!("the logo is larger than {} KiB", LogoType::MAX_BYTES / 1024)
        }
        LogoRejection::NotThatType(kind) => anyhow!("the file is not an image of type {kind}"),
    })
}

fn describe(b: &Branding) -> String {
    let footer = b
        .footer_link
        .as_ref()
        .map(|f| format!("{} <{}>", f.text, f.url))
        .unwrap_or_else(|| "none".into());
    format!(
        "product name: {}\nprimary colour: {}\nfooter link: {footer}\nlogo: {}",
        b.product_name,
        b.primary_color.as_deref().unwrap_or("none"),
        if b.logo_version.is_some() {
            "set"
        } else {
            "none"
        }
    )
}

fn failure(e: AdminError) -> anyhow::Error {
    match e {
        AdminError::Invalid(message) => anyhow!("{message}"),
        other => other.into(),
    }
}
