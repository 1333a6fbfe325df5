//! What decides whether a signed access token still grants access: the state of its
//! session and of its user, as the store reads them and the session cache keeps them.
use crate::clock::Millis;
use crate::domain::RoleSet;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionState {
    pub user_id: i64,
    pub expires_at: Millis,
    pub revoked: bool,
}

/// `None` where a `UserState` is expected means the user no longer exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserState {
    pub roles: RoleSet,
    pub disabled: bool,
}
