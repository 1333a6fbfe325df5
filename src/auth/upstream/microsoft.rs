//! Microsoft Entra ID's quirks. The issuer depends on the tenant: a sign-in through
//! `common` or `organizations` is published as `https://login.microsoftonline.com/{tenantid}/v2.0`,
//! a template each ID token fills in with its own `tid`, and a tenant named by its domain
//! publishes its id. And the `email` claim is whatever the tenant's admin typed: Microsoft
//! says not to trust it for authorisation ("nOAuth"), so it counts as verified only when the
//! token carries `xms_edov` (the email's domain is verified by the tenant) as true.
use serde_json::{Map, Value};

/// The public cloud's authority host.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
const TEMPLATE: &str = "{tenantid}";

/// Where the tenant's metadata is published (its "authority").
pub fn authority(base_url: Option<&str>, tenant: &str) -> String {
    let host = base_url.unwrap_or(DEFAULT_AUTHORITY).trim_end_matches('/');
    format!("{host}/{tenant}/v2.0")
}

/// The `{tenantid}` part of `issuer` under `host`, when it has the v2.0 shape.
fn tenant_of<'a>(issuer: &'a str, host: &str) -> Option<&'a str> {
    let tenant = issuer
        .strip_prefix(host.trim_end_matches('/'))?
        .strip_prefix('/')?
        .strip_suffix("/v2.0")?;
    (!tenant.is_empty() && !tenant.contains('/')).then_some(tenant)
}

/// Whether the issuer discovery states is one Microsoft publishes for `tenant`: its own
/// (a tenant id), the template (`common`, `organizations`), or another id under the same
/// host (a tenant named by domain, `consumers`).
pub fn accepts_discovered(issuer: &str, base_url: Option<&str>, tenant: &str) -> bool {
    let host = base_url.unwrap_or(DEFAULT_AUTHORITY);
    match tenant_of(issuer, host) {
        Some(stated) if stated == TEMPLATE => matches!(tenant, "common" | "organizations"),
        Some(stated) if stated.eq_ignore_ascii_case(tenant) => true,
        // A domain or `consumers` is published under the tenant's id; an id, as itself.
        Some(stated) => {
            !is_tenant_id(tenant)
                && !matches!(tenant, "common" | "organizations")
                && is_tenant_id(stated)
        }
        None => false,
    }
}

/// A tenant id: a GUID.
fn is_tenant_id(s: &str) -> bool {
    s.len() == 36 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// The issuer an ID token must carry: the discovered one, with a template filled in by
/// the token's own `tid`.
pub fn expected_issuer(discovered: &str, claims: &Map<String, Value>) -> Option<String> {
    if !discovered.contains(TEMPLATE) {
        return Some(discovered.to_string());
    }
    let tid = claims.get("tid").and_then(Value::as_str)?;
    is_tenant_id(tid).then(|| discovered.replace(TEMPLATE, tid))
}

/// Whether the callback's `iss` (RFC 9207), when Microsoft sends one, is the tenant's.
pub fn accepts_callback_issuer(iss: &str, discovered: &str) -> bool {
    match discovered.split_once(TEMPLATE) {
        Some((before, after)) => iss
            .strip_prefix(before)
            .and_then(|rest| rest.strip_suffix(after))
            .is_some_and(|tid| !tid.is_empty() && !tid.contains('/')),
        None => iss == discovered,
    }
}

/// Microsoft's email is verified only when its domain is (`xms_edov`).
pub fn email_verified(claims: &Map<String, Value>) -> bool {
    match claims.get("xms_edov") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "1" || s.eq_ignore_ascii_case("true"),
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    #[test]
    fn common_publishes_a_template_each_token_fills_with_its_tenant() {
        let discovered = "https://login.microsoftonline.com/{tenantid}/v2.0";
        assert!(accepts_discovered(discovered, None, "common"));
        assert!(
            !accepts_discovered(discovered, None, TID),
            "a tenant's own is concrete"
        );
        let claims = json!({"tid": TID}).as_object().unwrap().clone();
        assert_eq!(
            expected_issuer(discovered, &claims).unwrap(),
            format!("https://login.microsoftonline.com/{TID}/v2.0")
        );
        let no_tid = Map::new();
        assert_eq!(expected_issuer(discovered, &no_tid), None);
        let bad_tid = json!({"tid": "x/../y"}).as_object().unwrap().clone();
        assert_eq!(expected_issuer(discovered, &bad_tid), None);
    }

    #[test]
    fn a_tenant_accepts_its_own_issuer_and_a_domain_tenant_its_id() {
        let own = format!("https://login.microsoftonline.com/{TID}/v2.0");
        assert!(accepts_discovered(&own, None, TID));
        assert!(accepts_discovered(&own, None, "contoso.onmicrosoft.com"));
        assert!(!accepts_discovered(&own, None, "common"));
        let other = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/v2.0";
        assert!(!accepts_discovered(other, None, TID), "another tenant's id");
        assert!(!accepts_discovered(
            &format!("https://evil.example.com/{TID}/v2.0"),
            None,
            TID
        ));
        let us = format!("https://login.microsoftonline.us/{TID}/v2.0");
        assert!(accepts_discovered(
            &us,
            Some("https://login.microsoftonline.us"),
            TID
        ));
    }

    #[test]
    fn the_callbacks_iss_fits_the_template() {
        let discovered = "https://login.microsoftonline.com/{tenantid}/v2.0";
        assert!(accepts_callback_issuer(
            &format!("https://login.microsoftonline.com/{TID}/v2.0"),
            discovered
        ));
        assert!(!accepts_callback_issuer(
            "https://evil.example.com/x/v2.0",
            discovered
        ));
    }

    #[test]
    fn only_a_verified_domain_verifies_the_email() {
        let claims = |v: Value| v.as_object().unwrap().clone();
        assert!(!email_verified(&claims(json!({"email": "a@contoso.com"}))));
        assert!(email_verified(&claims(json!({"xms_edov": true}))));
        assert!(email_verified(&claims(json!({"xms_edov": "1"}))));
        assert!(!email_verified(&claims(json!({"xms_edov": false}))));
    }
}
