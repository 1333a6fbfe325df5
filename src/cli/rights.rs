//! `portcullis role`, `portcullis permission`, `portcullis group` and the group membership
//! of `portcullis user` (docs/API.md §2, "Roles, permissions and groups"). They go through
//! the admin API's use cases: the same rules, the same lock, and the same audit trail
//! (marked `cli`); the running servers hear of each change through the database.
use anyhow::anyhow;
use clap::{ArgGroup, Subcommand};

use crate::auth::notify::Notifier;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::service::admin::{Actor, AdminError};
use crate::service::groups::{self, GroupChange, NewGroup};
use crate::service::roles::{self, NewRole, RoleChange};
use crate::store::{self, groups::GroupRecord, roles::RoleRecord};

#[derive(Subcommand)]
pub enum RoleCommand {
    /// List every role, one a line: its name, whether it is built in, the client of an
    /// application role, the permissions it gives, and how many accounts (given it
    /// themselves) and groups hold it.
    List,
    /// Define a role.
    Create {
        /// The role's name: 3 to 20 of A-Z, a-z, 0-9, '.', '_' and '-', unique without
        /// regard to case.
        name: String,
        /// What the role is for (at most 255 printable characters).
        #[arg(long)]
        description: Option<String>,
        /// Make it an application role of this client: it is seen only in the tokens
        /// issued to that client.
        #[arg(long = "client", value_name = "CLIENT_ID")]
        client_id: Option<String>,
        /// A permission the role gives (defined first with `permission create`); repeat
        /// for several.
        #[arg(long = "permission", value_name = "PERMISSION")]
        permissions: Vec<String>,
    },
    /// Change a role's description or permissions; what is not given stays as it is.
    #[command(group(
        ArgGroup::new("change")
            .required(true)
            .multiple(true)
            .args(["description", "clear_description", "permissions", "no_permissions"])
    ))]
    Update {
        /// The role's name (any case).
        name: String,
        /// The new description (at most 255 printable characters).
        #[arg(long)]
        description: Option<String>,
        /// Remove the description.
        #[arg(long, conflicts_with = "description")]
        clear_description: bool,
        /// A permission the role is to give; repeat for several. The permissions given
        /// replace all the role gave before.
        #[arg(long = "permission", value_name = "PERMISSION")]
        permissions: Vec<String>,
        /// Make the role give no permission at all.
        #[arg(long, conflicts_with = "permissions")]
        no_permissions: bool,
    },
    /// Delete a role. One that accounts or groups still hold is refused unless --cascade
    /// is given; the built-in roles are never deleted.
    Delete {
        /// The role's name (any case).
        name: String,
        /// Take the role from every account and group that holds it, and delete it.
        #[arg(long)]
        cascade: bool,
    },
}

#[derive(Subcommand)]
pub enum PermissionCommand {
    /// List every permission, one a line: its name, the roles that give it, and its
    /// description.
    List,
    /// Define a permission, for roles to give.
    Create {
        /// The permission: 1 to 100 of a-z, 0-9, ':', '.', '_' and '-', starting with a
        /// letter or digit, such as `docs:write` (`portcullis:` is reserved).
        name: String,
        /// What the permission allows (at most 255 printable characters).
        #[arg(long)]
        description: Option<String>,
    },
    /// Delete a permission. One that roles still give is refused unless --cascade is
    /// given; Portcullis's own (`portcullis:…`) are never deleted.
    Delete {
        /// The permission's name.
        name: String,
        /// Take the permission from every role that gives it, and delete it.
        #[arg(long)]
        cascade: bool,
    },
}

#[derive(Subcommand)]
pub enum GroupCommand {
    /// List every group, one a line: its name, the roles it carries, how many members it
    /// has, and its description.
    List,
    /// Define a group. Its members have the roles it carries, besides their own.
    Create {
        /// The group's name: 3 to 20 of A-Z, a-z, 0-9, '.', '_' and '-', unique without
        /// regard to case.
        name: String,
        /// What the group is for (at most 255 printable characters).
        #[arg(long)]
        description: Option<String>,
        /// A role the group carries to its members; repeat for several. Never `admin`,
        /// which is given to accounts one by one.
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
    },
    /// Change a group's description or roles; what is not given stays as it is.
    #[command(group(
        ArgGroup::new("change")
            .required(true)
            .multiple(true)
            .args(["description", "clear_description", "roles", "no_roles"])
    ))]
    Update {
        /// The group's name (any case).
        name: String,
        /// The new description (at most 255 printable characters).
        #[arg(long)]
        description: Option<String>,
        /// Remove the description.
        #[arg(long, conflicts_with = "description")]
        clear_description: bool,
        /// A role the group is to carry; repeat for several. The roles given replace all
        /// it carried before.
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
        /// Make the group carry no role at all.
        #[arg(long, conflicts_with = "roles")]
        no_roles: bool,
    },
    /// Delete a group; its members lose the roles it carried (their own stay).
    Delete {
        /// The group's name (any case).
        name: String,
    },
    /// List a group's members by username, one a line.
    Members {
        /// The group's name (any case).
        name: String,
    },
}

pub async fn role(settings: &Settings, command: RoleCommand) -> anyhow::Result<()> {
    let db = super::open_db(settings).await?;
    let done = run_role(&db, command).await;
    db.pool.close().await;
    done
}

pub async fn permission(settings: &Settings, command: PermissionCommand) -> anyhow::Result<()> {
    let db = super::open_db(settings).await?;
    let done = run_permission(&db, command).await;
    db.pool.close().await;
    done
}

pub async fn group(settings: &Settings, command: GroupCommand) -> anyhow::Result<()> {
    let db = super::open_db(settings).await?;
    let done = run_group(&db, command).await;
    db.pool.close().await;
    done
}

/// `user add-to-group` (`join`) and `user remove-from-group`: idempotent, so a second run
/// succeeds and says nothing changed.
pub async fn membership(
    db: &Db,
    clock: &Clock,
    username: &str,
    group: &str,
    join: bool,
) -> anyhow::Result<()> {
    let Some(user) = store::users::find_by_login(db, username).await? else {
        anyhow::bail!("no user named `{username}`");
    };
    let changed = groups::set_membership(&notifier(db, clock), operator(), group, user.id, join)
        .await
        // The account was found above: NotFound is the group's (or the account went
        // meanwhile, which the message then hides, harmlessly).
        .map_err(|e| failure(e, "group", group))?;
    let who = user.username.as_str();
    match (join, changed) {
        (true, true) => println!("{who} is now a member of the group {group}."),
        (true, false) => println!("{who} was already a member of the group {group}."),
        (false, true) => println!("{who} is no longer a member of the group {group}."),
        (false, false) => println!("{who} was not a member of the group {group}."),
    }
    Ok(())
}

async fn run_role(db: &Db, command: RoleCommand) -> anyhow::Result<()> {
    let clock = Clock::default();
    let notify = notifier(db, &clock);
    match command {
        RoleCommand::List => {
            for r in store::roles::list(db).await? {
                println!("{}", describe_role(&r));
            }
        }
        RoleCommand::Create {
            name,
            description,
            client_id,
            permissions,
        } => {
            let role = NewRole {
                name: name.clone(),
                description,
                client_id,
                permissions,
            };
            let r = roles::create_role(&notify, operator(), role)
                .await
                .map_err(|e| failure(e, "role", &name))?;
            let client = r
                .client_id
                .as_deref()
                .map(|c| format!(" of the client {c}"))
                .unwrap_or_default();
            println!(
                "Role {}{client} created; it gives {}.",
                r.name,
                listed(&r.permissions, "no permission")
            );
        }
        RoleCommand::Update {
            name,
            description,
            clear_description,
            permissions,
            no_permissions,
        } => {
            let change = RoleChange {
                description: if clear_description {
                    Some(None)
                } else {
                    description.map(Some)
                },
                permissions: if no_permissions {
                    Some(Vec::new())
                } else {
                    (!permissions.is_empty()).then_some(permissions)
                },
            };
            let r = roles::update_role(&notify, operator(), &name, change)
                .await
                .map_err(|e| failure(e, "role", &name))?;
            println!(
                "Role {} now gives {}; {}.",
                r.name,
                listed(&r.permissions, "no permission"),
                described(r.description.as_deref())
            );
        }
        RoleCommand::Delete { name, cascade } => {
            match roles::delete_role(&notify, operator(), &name, cascade).await {
                Ok(()) if cascade => {
                    println!("Role {name} deleted; no account or group holds it any more.")
                }
                Ok(()) => println!("Role {name} deleted."),
                Err(AdminError::InUse(message)) => {
                    return Err(match holders(db, &name).await {
                        Ok(Some(text)) => anyhow!("{text}"),
                        _ => in_use(&message),
                    })
                }
                Err(e) => return Err(failure(e, "role", &name)),
            }
        }
    }
    Ok(())
}

async fn run_permission(db: &Db, command: PermissionCommand) -> anyhow::Result<()> {
    let clock = Clock::default();
    let notify = notifier(db, &clock);
    match command {
        PermissionCommand::List => {
            for p in store::roles::permissions(db).await? {
                let mut line = format!("{}  roles: {}", p.name, listed(&p.roles, "-"));
                if let Some(d) = &p.description {
                    line.push_str(&format!("  description: {d}"));
                }
                println!("{line}");
            }
        }
        PermissionCommand::Create { name, description } => {
            let p = roles::create_permission(&notify, operator(), &name, description.as_deref())
                .await
                .map_err(|e| failure(e, "permission", &name))?;
            println!(
                "Permission {} created; roles can now give it (role create/update --permission {}).",
                p.name, p.name
            );
        }
        PermissionCommand::Delete { name, cascade } => {
            roles::delete_permission(&notify, operator(), &name, cascade)
                .await
                .map_err(|e| failure(e, "permission", &name))?;
            println!("Permission {name} deleted; no role gives it any more.");
        }
    }
    Ok(())
}

async fn run_group(db: &Db, command: GroupCommand) -> anyhow::Result<()> {
    let clock = Clock::default();
    let notify = notifier(db, &clock);
    match command {
        GroupCommand::List => {
            for g in store::groups::list(db).await? {
                println!("{}", describe_group(&g));
            }
        }
        GroupCommand::Create {
            name,
            description,
            roles,
        } => {
            let group = NewGroup {
                name: name.clone(),
                description,
                roles,
            };
            let g = groups::create_group(&notify, operator(), group)
                .await
                .map_err(|e| failure(e, "group", &name))?;
            println!(
                "Group {} created; it carries {}.",
                g.name,
                listed(&g.roles, "no role")
            );
        }
        GroupCommand::Update {
            name,
            description,
            clear_description,
            roles,
            no_roles,
        } => {
            let change = GroupChange {
                description: if clear_description {
                    Some(None)
                } else {
                    description.map(Some)
                },
                roles: if no_roles {
                    Some(Vec::new())
                } else {
                    (!roles.is_empty()).then_some(roles)
                },
            };
            let g = groups::update_group(&notify, operator(), &name, change)
                .await
                .map_err(|e| failure(e, "group", &name))?;
            println!(
                "Group {} now carries {}; {}.",
                g.name,
                listed(&g.roles, "no role"),
                described(g.description.as_deref())
            );
        }
        GroupCommand::Delete { name } => {
            groups::delete_group(&notify, operator(), &name)
                .await
                .map_err(|e| failure(e, "group", &name))?;
            println!("Group {name} deleted; its members no longer have the roles it carried.");
        }
        GroupCommand::Members { name } => {
            let Some(group) = store::groups::find(db, &name).await? else {
                anyhow::bail!("no group named `{name}`");
            };
            const PAGE: i64 = 500;
            let mut offset = 0;
            loop {
                let page = store::groups::members(db, group.id, offset, PAGE).await?;
                for member in &page {
                    println!("{}", member.username);
                }
                if (page.len() as i64) < PAGE {
                    break;
                }
                offset += PAGE;
            }
        }
    }
    Ok(())
}

/// The command line acts with an admin's authority; `--force` is only for the last-admin
/// rule, which these commands never meet.
fn operator() -> Actor<'static> {
    Actor::CommandLine { force: false }
}

/// The running nodes hear of a change through the `cache_events` table.
fn notifier<'a>(db: &'a Db, clock: &'a Clock) -> Notifier<'a> {
    Notifier {
        db,
        clock,
        redis: None,
        cache: None,
    }
}

/// One line for an operator: `what` is "role", "permission" or "group", `name` the one
/// the command named.
fn failure(e: AdminError, what: &str, name: &str) -> anyhow::Error {
    match e {
        AdminError::NotFound => anyhow!("no {what} named `{name}`"),
        AdminError::NameTaken => {
            anyhow!("a {what} named `{name}` already exists (names are compared without regard to case)")
        }
        AdminError::UnknownRole(role) => anyhow!("no role named `{role}`"),
        AdminError::UnknownPermission(permission) => anyhow!(
            "no permission named `{permission}` (define it first with `portcullis permission create`)"
        ),
        AdminError::InUse(message) => in_use(&message),
        AdminError::Invalid(message) => anyhow!("{message}"),
        other => other.into(),
    }
}

/// The use case's refusal speaks of the API's `cascade=true`; here it is a flag.
fn in_use(message: &str) -> anyhow::Error {
    anyhow!(
        "{}",
        message.replace("delete it with cascade=true", "repeat with --cascade")
    )
}

/// Who holds the role `name`, for a refused delete: the accounts given it counted, the
/// groups carrying it named. `None` when it is held by no one (any more).
async fn holders(db: &Db, name: &str) -> anyhow::Result<Option<String>> {
    let Some(role) = store::roles::find(db, name).await? else {
        return Ok(None);
    };
    let carriers: Vec<String> = store::groups::list(db)
        .await?
        .into_iter()
        .filter(|g| g.roles.iter().any(|r| r == &role.name))
        .map(|g| g.name)
        .collect();
    let mut held = Vec::new();
    if role.users > 0 {
        held.push(counted(role.users, "account", "accounts"));
    }
    if !carriers.is_empty() {
        held.push(format!(
            "the {} {}",
            if carriers.len() == 1 {
                "group"
            } else {
                "groups"
            },
            carriers.join(", ")
        ));
    }
    if held.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "the role {} is held by {}; repeat with --cascade to take it from them",
        role.name,
        held.join(" and ")
    )))
}

fn describe_role(r: &RoleRecord) -> String {
    let mut line = format!(
        "{}  {}  client: {}  permissions: {}  users: {}  groups: {}",
        r.name,
        if r.built_in().is_some() {
            "built-in"
        } else {
            "custom"
        },
        r.client_id.as_deref().unwrap_or("-"),
        listed(&r.permissions, "-"),
        r.users,
        r.groups
    );
    if let Some(d) = &r.description {
        line.push_str(&format!("  description: {d}"));
    }
    line
}

fn describe_group(g: &GroupRecord) -> String {
    let mut line = format!(
        "{}  roles: {}  members: {}",
        g.name,
        listed(&g.roles, "-"),
        g.members
    );
    if let Some(d) = &g.description {
        line.push_str(&format!("  description: {d}"));
    }
    line
}

/// Space-separated, or `none` when empty.
fn listed(names: &[String], none: &str) -> String {
    if names.is_empty() {
        none.to_string()
    } else {
        names.join(" ")
    }
}

fn described(description: Option<&str>) -> String {
    match description {
        Some(d) => format!("description: {d}"),
        None => "no description".to_string(),
    }
}

fn counted(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
