//! `portcullis import tutorial`: moves the accounts of a database made by the Node.js
//! tutorial's backend (Sequelize: `users`, `roles`, `user_roles`) into Portcullis, keeping
//! each bcrypt hash so users sign in with their old password (and are rehashed to argon2id
//! on that sign-in).
//!
//! The tutorial enforced no uniqueness and no formats, so every row is checked, and each
//! one that cannot be imported as it is gets reported by id with the reason (rules in
//! docs/IMPORT.md). Nothing is merged silently; re-running is safe. The source's queries
//! are in `store::tutorial_source`.
use std::collections::{BTreeMap, HashMap, HashSet};

use crate::auth::password::is_bcrypt;
use crate::clock::Clock;
use crate::db::{Db, DbError};
use crate::domain::{Email, Role, RoleSet, Username};
use crate::store::tutorial_source;
use crate::store::{self, StoreError};

/// One source row and what became of it.
#[derive(Debug, Default)]
pub struct Report {
    pub imported: Vec<i64>,
    /// Already in Portcullis with the same username and email: left as it is.
    pub unchanged: Vec<i64>,
    /// Source id and why it was skipped.
    pub skipped: Vec<(i64, String)>,
    /// Source id and a note on a rule applied (unknown role ignored, no role → user).
    pub notes: Vec<(i64, String)>,
    /// Role name in the tutorial → how many imported users got it.
    pub roles_mapped: BTreeMap<String, usize>,
}

impl Report {
    pub fn summary(&self, dry_run: bool) -> String {
        let mut out = String::new();
        let verb = if dry_run {
            "would be imported"
        } else {
            "imported"
        };
        out.push_str(&format!("{} user(s) {verb}\n", self.imported.len()));
        out.push_str(&format!(
            "{} user(s) already present and left unchanged\n",
            self.unchanged.len()
        ));
        out.push_str(&format!("{} user(s) skipped\n", self.skipped.len()));
        for (id, why) in &self.skipped {
            out.push_str(&format!("  skipped id {id}: {why}\n"));
        }
        for (id, note) in &self.notes {
            out.push_str(&format!("  note id {id}: {note}\n"));
        }
        out.push_str("roles mapped:");
        if self.roles_mapped.is_empty() {
            out.push_str(" none");
        }
        for (role, n) in &self.roles_mapped {
            out.push_str(&format!(" {role}={n}"));
        }
        out.push('\n');
        if dry_run {
            out.push_str("dry run: nothing was written\n");
        }
        out
    }
}

/// Reads `source` and writes into `target` (unless `dry_run`).
pub async fn run(source: &Db, target: &Db, dry_run: bool) -> anyhow::Result<Report> {
    let users = tutorial_source::users(source).await?;
    let role_names = tutorial_source::roles(source).await?;
    let mut roles_of: HashMap<i64, Vec<i64>> = HashMap::new();
    for (user_id, role_id) in tutorial_source::user_roles(source).await? {
        roles_of.entry(user_id).or_default().push(role_id);
    }

    let mut report = Report::default();
    let mut seen_usernames: HashMap<String, i64> = HashMap::new();
    let mut seen_emails: HashMap<String, i64> = HashMap::new();
    let clock = Clock::default();

    for user in users {
        let id = user.id;
        let (Some(raw_username), Some(raw_email)) = (
            user.username
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty()),
            user.email
                .as_deref()
                .map(str::trim)
                .filter(|e| !e.is_empty()),
        ) else {
            report.skipped.push((id, "no username or no email".into()));
            continue;
        };
        let username = match Username::parse(raw_username) {
            Ok(u) => u,
            Err(why) => {
                report.skipped.push((
                    id,
                    format!("username `{raw_username}` is not valid here: {why}"),
                ));
                continue;
            }
        };
        let email = match Email::parse(raw_email) {
            Ok(e) => e,
            Err(why) => {
                report
                    .skipped
                    .push((id, format!("email `{raw_email}` is not valid here: {why}")));
                continue;
            }
        };
        let Some(hash) = user.password.filter(|p| is_bcrypt(p)) else {
            report
                .skipped
                .push((id, "password is not a bcrypt hash".into()));
            continue;
        };
        // The first row (lowest id) of a name or an address keeps it; later ones are reported.
        if let Some(first) = seen_usernames.get(&username.key()) {
            report.skipped.push((
                id,
                format!(
                    "username `{}` duplicates id {first} (ignoring case)",
                    username.as_str()
                ),
            ));
            continue;
        }
        if let Some(first) = seen_emails.get(&email.key()) {
            report.skipped.push((
                id,
                format!(
                    "email `{}` duplicates id {first} (ignoring case)",
                    email.as_str()
                ),
            ));
            continue;
        }
        seen_usernames.insert(username.key(), id);
        seen_emails.insert(email.key(), id);

        let mut roles: RoleSet = [Role::User].into_iter().collect();
        let mut names = Vec::new();
        let role_ids = roles_of.get(&id).cloned().unwrap_or_default();
        if role_ids.is_empty() {
            report.notes.push((id, "had no role: given `user`".into()));
        }
        for role_id in role_ids {
            let name = role_names
                .get(&role_id)
                .cloned()
                .unwrap_or_else(|| format!("#{role_id}"));
            match Role::from_name(&name.to_ascii_lowercase()) {
                Some(role) => {
                    roles.insert(role);
                    names.push(role.name().to_string());
                }
                None => report
                    .notes
                    .push((id, format!("unknown role `{name}` ignored"))),
            }
        }

        match existing(target, &username, &email).await? {
            Existing::Same => {
                report.unchanged.push(id);
                continue;
            }
            Existing::UsernameTaken => {
                report.skipped.push((
                    id,
                    format!(
                        "username `{}` belongs to another Portcullis account",
                        username.as_str()
                    ),
                ));
                continue;
            }
            Existing::EmailTaken => {
                report.skipped.push((
                    id,
                    format!(
                        "email `{}` belongs to another Portcullis account",
                        email.as_str()
                    ),
                ));
                continue;
            }
            Existing::None => {}
        }
        if !dry_run {
            let created = store::users::create(
                target,
                store::users::NewUser {
                    username: &username,
                    email: &email,
                    password_hash: &hash,
                    roles,
                },
                clock.now_ms(),
            )
            .await;
            match created {
                Ok(_) => {}
                Err(StoreError::UsernameTaken) | Err(StoreError::EmailTaken) => {
                    report
                        .skipped
                        .push((id, "taken in Portcullis while importing".into()));
                    continue;
                }
                Err(StoreError::Db(e)) => return Err(e.into()),
            }
        }
        report.imported.push(id);
        let unique: HashSet<String> = names.into_iter().chain(["user".to_string()]).collect();
        for name in unique {
            *report.roles_mapped.entry(name).or_default() += 1;
        }
    }
    Ok(report)
}

enum Existing {
    None,
    /// Same username and email: imported before (or made by hand identically).
    Same,
    UsernameTaken,
    EmailTaken,
}

async fn existing(target: &Db, username: &Username, email: &Email) -> Result<Existing, DbError> {
    let by_name = store::users::find_by_login(target, username.as_str()).await?;
    let by_email = store::users::find_by_login(target, email.as_str()).await?;
    Ok(match (by_name, by_email) {
        (Some(a), Some(b)) if a.id == b.id => Existing::Same,
        (Some(_), _) => Existing::UsernameTaken,
        (None, Some(_)) => Existing::EmailTaken,
        (None, None) => Existing::None,
    })
}
