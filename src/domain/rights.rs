//! What an account may do beyond the three built-in roles: the roles, groups and
//! permissions an admin defines (docs/API.md §2, "Roles, permissions and groups").
use std::sync::Arc;

/// The name of a role an admin defines, or of a group: the username rules (3 to 20 of
/// `A-Z a-z 0-9 . _ -`), unique without regard to case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RightsName(String);

impl RightsName {
    pub const MIN: usize = 3;
    pub const MAX: usize = 20;

    /// `what`: "role" or "group", for the message.
    pub fn parse(raw: &str, what: &str) -> Result<Self, String> {
        let len = raw.chars().count();
        let alphabet = raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !(Self::MIN..=Self::MAX).contains(&len) || !alphabet {
            return Err(format!(
                "A {what} name is {} to {} characters of A-Z, a-z, 0-9, '.', '_' and '-'.",
                Self::MIN,
                Self::MAX
            ));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form uniqueness is decided on.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// A permission: 1 to 100 of `a-z 0-9 : . _ -`, starting with a letter or digit, such as
/// `invoices:write`. Lower case only, so that every database compares them alike.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PermissionName(String);

impl PermissionName {
    pub const MAX: usize = 100;
    /// The prefix of the permissions Portcullis itself defines and checks.
    pub const RESERVED_PREFIX: &'static str = "portcullis:";
    /// Lets an account that is not an admin change other accounts' roles and group
    /// memberships, within the roles it holds itself.
    pub const MANAGE_USERS: &'static str = "portcullis:users:manage";
    /// Lets an API key or account ask `POST /api/authz/check` about any user.
    pub const AUTHZ_CHECK: &'static str = "portcullis:authz:check";
    /// The built-in permissions, seeded at every start.
    pub const BUILT_IN: [(&'static str, &'static str); 2] = [
        (
            Self::MANAGE_USERS,
            "Change other accounts' roles and groups, within the roles one holds",
        ),
        (
            Self::AUTHZ_CHECK,
            "Ask POST /api/authz/check whether a user holds a permission",
        ),
    ];

    pub fn parse(raw: &str) -> Result<Self, String> {
        let first_ok = raw
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let alphabet = raw.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, ':' | '.' | '_' | '-')
        });
        if !first_ok || !alphabet || raw.len() > Self::MAX {
            return Err(format!(
                "A permission is 1 to {} of a-z, 0-9, ':', '.', '_' and '-', starting with a letter or digit.",
                Self::MAX
            ));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_built_in(&self) -> bool {
        self.0.starts_with(Self::RESERVED_PREFIX)
    }
}

/// A role or permission that belongs to one OpenID Connect client.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ForClient {
    pub client_id: Arc<str>,
    pub name: Arc<str>,
}

/// An account's effective rights beyond the built-in roles: what its own roles and its
/// groups' roles give it. Loaded with the account's state and cached with it, so a check
/// costs no query. Every list is sorted and without repeats.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rights {
    /// Roles an admin defined that hold for every client.
    pub roles: Vec<Arc<str>>,
    /// Application roles: each seen only by its client.
    pub app_roles: Vec<ForClient>,
    pub groups: Vec<Arc<str>>,
    /// What the global roles (built-in ones included) give.
    pub permissions: Vec<Arc<str>>,
    /// What the application roles give, each within its client.
    pub app_permissions: Vec<ForClient>,
}

impl Rights {
    /// Whether the account holds `permission` outside any client (the API, forward
    /// authentication).
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions
            .binary_search_by(|p| p.as_ref().cmp(permission))
            .is_ok()
    }

    /// Whether the account holds `permission` for `client`: a global one, or one of that
    /// client's application roles'.
    pub fn has_permission_for(&self, client: &str, permission: &str) -> bool {
        self.has_permission(permission)
            || self
                .app_permissions
                .iter()
                .any(|p| p.client_id.as_ref() == client && p.name.as_ref() == permission)
    }

    /// Role names compare without regard to case, as they are unique.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r.eq_ignore_ascii_case(role))
    }

    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g.eq_ignore_ascii_case(group))
    }

    /// The application roles of `client`.
    pub fn roles_of_client<'a>(&'a self, client: &'a str) -> impl Iterator<Item = &'a str> {
        self.app_roles
            .iter()
            .filter(move |r| r.client_id.as_ref() == client)
            .map(|r| r.name.as_ref())
    }

    /// Every permission the account holds for `client` (`None`: outside any client),
    /// sorted.
    pub fn permissions_for(&self, client: Option<&str>) -> Vec<&str> {
        let mut all: Vec<&str> = self.permissions.iter().map(AsRef::as_ref).collect();
        if let Some(client) = client {
            all.extend(
                self.app_permissions
                    .iter()
                    .filter(|p| p.client_id.as_ref() == client)
                    .map(|p| p.name.as_ref()),
            );
            all.sort_unstable();
            all.dedup();
        }
        all
    }

    /// Keeps only what `allowed` also grants: an API key's rights within its owner's. A key
    /// is given roles and permissions, never groups, nor any client's application roles.
    pub fn within(&self, roles: &[Arc<str>], permissions: &[Arc<str>]) -> Rights {
        let keep = |have: &[Arc<str>], allowed: &[Arc<str>]| -> Vec<Arc<str>> {
            have.iter()
                .filter(|h| allowed.iter().any(|a| a.eq_ignore_ascii_case(h)))
                .cloned()
                .collect()
        };
        Rights {
            roles: keep(&self.roles, roles),
            app_roles: Vec::new(),
            groups: Vec::new(),
            permissions: keep(&self.permissions, permissions),
            app_permissions: Vec::new(),
        }
    }
}

/// The authority a role an admin defined is answered as (`ROLE_` + its name in upper case),
/// as the built-in roles' are (`Role::authority`).
pub fn authority(role: &str) -> String {
    format!("ROLE_{}", role.to_ascii_uppercase())
}

/// Sorts and removes repeats: what `Rights` keeps its lists as.
pub fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort_unstable();
    items.dedup();
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(items: &[&str]) -> Vec<Arc<str>> {
        sorted(items.iter().map(|s| Arc::from(*s)).collect())
    }

    #[test]
    fn role_and_group_names_follow_the_username_rules() {
        for ok in ["editor", "Billing-Admin", "a.b_c", "x1234567890123456789"] {
            assert!(RightsName::parse(ok, "role").is_ok(), "{ok}");
        }
        for bad in ["", "ab", "x12345678901234567890", "bill ing", "rôle", "a/b"] {
            assert!(RightsName::parse(bad, "role").is_err(), "{bad:?}");
        }
        let name = RightsName::parse("Editors", "group").unwrap();
        assert_eq!(name.key(), "editors");
    }

    #[test]
    fn permissions_are_lower_case_and_reserved_ones_are_recognised() {
        for ok in ["invoices:write", "a", "9lives", "reports.read_all-v2"] {
            assert!(PermissionName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Invoices:write",
            ":write",
            "-x",
            "a b",
            "a*",
            &"x".repeat(101),
        ] {
            assert!(PermissionName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(PermissionName::parse(PermissionName::MANAGE_USERS)
            .unwrap()
            .is_built_in());
        assert!(!PermissionName::parse("portcullis").unwrap().is_built_in());
    }

    #[test]
    fn checks_find_what_the_rights_hold() {
        let rights = Rights {
            roles: names(&["editor"]),
            app_roles: vec![ForClient {
                client_id: "shop".into(),
                name: "clerk".into(),
            }],
            groups: names(&["payments"]),
            permissions: names(&["invoices:write", "invoices:read"]),
            app_permissions: vec![ForClient {
                client_id: "shop".into(),
                name: "till:open".into(),
            }],
        };
        assert!(rights.has_permission("invoices:read"));
        assert!(!rights.has_permission("till:open"));
        assert!(rights.has_permission_for("shop", "till:open"));
        assert!(!rights.has_permission_for("other", "till:open"));
        assert!(rights.has_role("Editor"));
        assert!(!rights.has_role("clerk"));
        assert!(rights.in_group("PAYMENTS"));
        assert_eq!(
            rights.roles_of_client("shop").collect::<Vec<_>>(),
            ["clerk"]
        );
        assert_eq!(
            rights.permissions_for(Some("shop")),
            ["invoices:read", "invoices:write", "till:open"]
        );
        let narrowed = rights.within(&names(&[]), &names(&["invoices:read", "other"]));
        assert_eq!(narrowed.permissions, names(&["invoices:read"]));
        assert!(narrowed.roles.is_empty() && narrowed.app_roles.is_empty());
        assert!(narrowed.groups.is_empty());
    }
}
