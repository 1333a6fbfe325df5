//! Branding (docs/API.md §2, "Branding"): what the pages and mails show of the operator,
//! the same use cases for the admin API and `portcullis branding …`. Changes are made
//! under the admin lock by whoever still holds full admin rights, and audited
//! (`branding_changed`, `detail` naming what changed).
use crate::audit::{self, Event};
use crate::clock::{Clock, Millis};
use crate::db::{Db, DbError};
use crate::domain::branding::{Colour, FooterLink, LogoType, ProductName, DEFAULT_PRODUCT_NAME};
use crate::service::admin::{lock_and_check, Actor, AdminError};
use crate::store::branding::{self as store, BrandingRow, Logo};

/// The logo owner of the product itself (a client's is `client:<id>`).
pub const PRODUCT_LOGO: &str = "product";

/// What the pages show, with the defaults filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Branding {
    pub product_name: String,
    pub primary_color: Option<String>,
    pub footer_link: Option<FooterLink>,
    /// When the product's logo last changed (its URL names it, so caches see a new one);
    /// `None`: no logo.
    pub logo_version: Option<Millis>,
}

/// A whole new branding (what `PUT` sends): what is `None` is unset.
#[derive(Clone, Debug, Default)]
pub struct BrandingChange {
    pub product_name: Option<String>,
    pub primary_color: Option<String>,
    /// Text and URL.
    pub footer_link: Option<(String, String)>,
}

pub async fn get(db: &Db) -> Result<Branding, DbError> {
    let row = store::get(db).await?.unwrap_or_default();
    let logo_version = store::logo_versions(db, &[PRODUCT_LOGO])
        .await?
        .first()
        .map(|(_, at)| *at);
    Ok(view(row, logo_version))
}

/// The product's name as the pages and mails show it.
pub async fn product_name(db: &Db) -> Result<String, DbError> {
    Ok(store::get(db)
        .await?
        .and_then(|row| row.product_name)
        .unwrap_or_else(|| DEFAULT_PRODUCT_NAME.to_string()))
}

fn view(row: BrandingRow, logo_version: Option<Millis>) -> Branding {
    let footer_link = match (row.footer_text, row.footer_url) {
        (Some(text), Some(url)) => Some(FooterLink { text, url }),
        _ => None,
    };
    Branding {
        product_name: row
            .product_name
            .unwrap_or_else(|| DEFAULT_PRODUCT_NAME.to_string()),
        primary_color: row.primary_color,
        footer_link,
        logo_version,
    }
}

/// Replaces the branding's settings (not its logo), checked whole first.
pub async fn update(
    db: &Db,
    clock: &Clock,
    actor: Actor<'_>,
    change: BrandingChange,
) -> Result<Branding, AdminError> {
    let name = change
        .product_name
        .as_deref()
        .map(ProductName::parse)
        .transpose()
        .map_err(AdminError::Invalid)?;
    let colour = change
        .primary_color
        .as_deref()
        .map(Colour::parse)
        .transpose()
        .map_err(AdminError::Invalid)?;
    let footer = change
        .footer_link
        .as_ref()
        .map(|(text, url)| FooterLink::parse(text, url))
        .transpose()
        .map_err(AdminError::Invalid)?;
    let (_one_at_a_time, authority) = lock_and_check(db, actor).await?;
    authority.require_full()?;
    let before = store::get(db).await?.unwrap_or_default();
    let row = BrandingRow {
        product_name: name.map(|n| n.as_str().to_string()),
        primary_color: colour.map(|c| c.as_str().to_string()),
        footer_text: footer.as_ref().map(|f| f.text.clone()),
        footer_url: footer.map(|f| f.url),
        updated_at: clock.now_ms(),
    };
    store::put(db, &row).await?;
    let changed = changes(&before, &row);
    if !changed.is_empty() {
        record(
            db,
            clock,
            actor,
            &format!("branding: {}", changed.join(" ")),
        )
        .await;
    }
    get(db).await.map_err(AdminError::from)
}

/// The fields whose values differ, by their API names.
fn changes(before: &BrandingRow, after: &BrandingRow) -> Vec<&'static str> {
    let mut changed = Vec::new();
    if before.product_name != after.product_name {
        changed.push("productName");
    }
    if before.primary_color != after.primary_color {
        changed.push("primaryColor");
    }
    if (&before.footer_text, &before.footer_url) != (&after.footer_text, &after.footer_url) {
        changed.push("footerLink");
    }
    changed
}

/// Sets the product's logo: bytes already checked to be `kind`
/// (`LogoType::check`).
pub async fn set_logo(
    db: &Db,
    clock: &Clock,
    actor: Actor<'_>,
    kind: LogoType,
    bytes: Vec<u8>,
) -> Result<Branding, AdminError> {
    let (_one_at_a_time, authority) = lock_and_check(db, actor).await?;
    authority.require_full()?;
    let size = bytes.len();
    let logo = Logo {
        content_type: kind.content_type().to_string(),
        bytes,
        updated_at: clock.now_ms(),
    };
    store::put_logo(db, PRODUCT_LOGO, &logo).await?;
    let detail = format!("branding: logo ({}, {size} bytes)", kind.content_type());
    record(db, clock, actor, &detail).await;
    get(db).await.map_err(AdminError::from)
}

/// Removes the product's logo; removing none is no change (and no audit event).
pub async fn remove_logo(db: &Db, clock: &Clock, actor: Actor<'_>) -> Result<Branding, AdminError> {
    let (_one_at_a_time, authority) = lock_and_check(db, actor).await?;
    authority.require_full()?;
    if store::delete_logo(db, PRODUCT_LOGO).await? {
        record(db, clock, actor, "branding: logo removed").await;
    }
    get(db).await.map_err(AdminError::from)
}

pub async fn logo(db: &Db) -> Result<Option<Logo>, DbError> {
    store::logo(db, PRODUCT_LOGO).await
}

async fn record(db: &Db, clock: &Clock, actor: Actor<'_>, detail: &str) {
    let entry = audit::Entry {
        detail: Some(detail),
        ..actor.entry(None, None)
    };
    audit::record(db, clock, Event::BrandingChanged, true, &entry).await;
}
