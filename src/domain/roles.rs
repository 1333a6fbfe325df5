use serde::Serialize;

/// The three roles of the tutorial, seeded at every start with fixed ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Role {
    User,
    Moderator,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::User, Role::Moderator, Role::Admin];

    pub fn id(self) -> i64 {
        match self {
            Role::User => 1,
            Role::Moderator => 2,
            Role::Admin => 3,
        }
    }

    pub fn from_id(id: i64) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.id() == id)
    }

    /// The name used in requests and in the `roles` table.
    pub fn name(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }

    pub fn from_name(name: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }

    /// The name used in responses: `ROLE_` + upper case.
    pub fn authority(self) -> &'static str {
        match self {
            Role::User => "ROLE_USER",
            Role::Moderator => "ROLE_MODERATOR",
            Role::Admin => "ROLE_ADMIN",
        }
    }
}

/// A set of roles in one byte: cheap to cache and to check on every request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RoleSet(u8);

impl RoleSet {
    /// The roles named (`user`, `moderator`, `admin`), always with `user`; the first
    /// unknown name, cut at 64 characters, otherwise.
    pub fn from_names(names: &[String]) -> Result<RoleSet, String> {
        let mut roles: RoleSet = [Role::User].into_iter().collect();
        for name in names {
            match Role::from_name(name) {
                Some(role) => roles.insert(role),
                None => return Err(name.chars().take(64).collect()),
            }
        }
        Ok(roles)
    }

    pub fn insert(&mut self, role: Role) {
        self.0 |= 1 << role.id();
    }

    pub fn contains(self, role: Role) -> bool {
        self.0 & (1 << role.id()) != 0
    }

    pub fn iter(self) -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(move |r| self.contains(*r))
    }

    pub fn authorities(self) -> Vec<&'static str> {
        self.iter().map(Role::authority).collect()
    }
}

impl FromIterator<Role> for RoleSet {
    fn from_iter<I: IntoIterator<Item = Role>>(iter: I) -> Self {
        let mut set = RoleSet::default();
        for role in iter {
            set.insert(role);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_ids_and_authorities_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::from_name(role.name()), Some(role));
            assert_eq!(Role::from_id(role.id()), Some(role));
            assert_eq!(
                role.authority(),
                format!("ROLE_{}", role.name().to_uppercase())
            );
        }
        assert_eq!(Role::from_name("ROLE_ADMIN"), None);
        assert_eq!(Role::from_name("Admin"), None);
    }

    #[test]
    fn role_sets_list_in_a_stable_order() {
        let set: RoleSet = [Role::Admin, Role::User].into_iter().collect();
        assert_eq!(set.authorities(), vec!["ROLE_USER", "ROLE_ADMIN"]);
        assert!(!set.contains(Role::Moderator));
    }
}
