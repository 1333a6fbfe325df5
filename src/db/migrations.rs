//! One set of migrations for all three databases: sea-query writes each dialect's DDL.
//! Applied in order at every start; `schema_migrations` records what has run.
use sea_query::{
    Alias, ColumnDef, ForeignKey, ForeignKeyAction, ForeignKeyCreateStatement, Index,
    IndexCreateStatement, MysqlQueryBuilder, PostgresQueryBuilder, SchemaBuilder,
    SqliteQueryBuilder, Table, TableAlterStatement, TableCreateStatement,
};
use sqlx::Row;

use super::{is_unique_violation, Db, DbError, Dialect};

enum Step {
    Table(TableCreateStatement),
    /// A column added to a table; a node that finds it there already moves on.
    Alter(TableAlterStatement),
    Index(IndexCreateStatement),
    /// SQL for one dialect only, for what sea-query does not express; the others skip it.
    Only(Dialect, &'static str),
}

struct Migration {
    version: i64,
    steps: Vec<Step>,
}

fn name(n: &str) -> Alias {
    Alias::new(n)
}

fn id_column() -> ColumnDef {
    ColumnDef::new(name("id"))
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn millis(column: &str) -> ColumnDef {
    ColumnDef::new(name(column))
        .big_integer()
        .not_null()
        .to_owned()
}

fn millis_null(column: &str) -> ColumnDef {
    ColumnDef::new(name(column)).big_integer().null().to_owned()
}

fn text(column: &str, len: u32) -> ColumnDef {
    ColumnDef::new(name(column))
        .string_len(len)
        .not_null()
        .to_owned()
}

fn text_null(column: &str, len: u32) -> ColumnDef {
    ColumnDef::new(name(column))
        .string_len(len)
        .null()
        .to_owned()
}

/// A yes/no column, no by default.
fn flag(column: &str) -> ColumnDef {
    ColumnDef::new(name(column))
        .big_integer()
        .not_null()
        .default(0)
        .to_owned()
}

fn add_column(table: &str, column: ColumnDef) -> Step {
    Step::Alter(
        Table::alter()
            .table(name(table))
            .add_column(column)
            .to_owned(),
    )
}

fn fk(from_table: &str, column: &str, to: &str, to_column: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(name(from_table), name(column))
        .to(name(to), name(to_column))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn index(table: &str, columns: &[&str], unique: bool) -> Step {
    let mut ix = Index::create();
    ix.name(format!("ix_{table}_{}", columns.join("_")))
        .table(name(table));
    for c in columns {
        ix.col(name(c));
    }
    if unique {
        ix.unique();
    }
    Step::Index(ix.to_owned())
}

fn migrations() -> Vec<Migration> {
    vec![
        Migration {
            version: 1,
            steps: vec![
                Step::Table(
                    Table::create()
                        .table(name("roles"))
                        .col(
                            ColumnDef::new(name("id"))
                                .big_integer()
                                .not_null()
                                .primary_key(),
                        )
                        .col(text("name", 32).unique_key())
                        .to_owned(),
                ),
                Step::Table(
                    Table::create()
                        .table(name("users"))
                        .col(id_column())
                        .col(text("username", 64))
                        .col(text("username_lower", 64))
                        .col(text("email", 254))
                        .col(text("email_lower", 254))
                        .col(text("password_hash", 255))
                        .col(
                            ColumnDef::new(name("disabled"))
                                .big_integer()
                                .not_null()
                                .default(0),
                        )
                        .col(millis("created_at"))
                        .col(millis("updated_at"))
                        .col(millis_null("last_signin_at"))
                        .to_owned(),
                ),
                // Uniqueness is the database's job: two concurrent signups create one account.
                index("users", &["username_lower"], true),
                index("users", &["email_lower"], true),
                Step::Table(
                    Table::create()
                        .table(name("user_roles"))
                        .col(ColumnDef::new(name("user_id")).big_integer().not_null())
                        .col(ColumnDef::new(name("role_id")).big_integer().not_null())
                        .primary_key(Index::create().col(name("user_id")).col(name("role_id")))
                        .foreign_key(&mut fk("user_roles", "user_id", "users", "id"))
                        .foreign_key(&mut fk("user_roles", "role_id", "roles", "id"))
                        .to_owned(),
                ),
                Step::Table(
                    Table::create()
                        .table(name("sessions"))
                        .col(text("id", 64).primary_key())
                        .col(ColumnDef::new(name("user_id")).big_integer().not_null())
                        .col(millis("created_at"))
                        .col(millis("last_used_at"))
                        .col(millis("expires_at"))
                        .col(millis_null("revoked_at"))
                        .col(text_null("user_agent", 512))
                        .col(text_null("ip", 64))
                        .foreign_key(&mut fk("sessions", "user_id", "users", "id"))
                        .to_owned(),
                ),
                index("sessions", &["user_id"], false),
                Step::Table(
                    Table::create()
                        .table(name("refresh_tokens"))
                        .col(id_column())
                        .col(text("session_id", 64))
                        .col(text("token_hash", 64))
                        .col(millis("created_at"))
                        .col(millis("expires_at"))
                        .col(millis_null("spent_at"))
                        .foreign_key(&mut fk("refresh_tokens", "session_id", "sessions", "id"))
                        .to_owned(),
                ),
                index("refresh_tokens", &["token_hash"], true),
                index("refresh_tokens", &["session_id"], false),
                Step::Table(
                    Table::create()
                        .table(name("server_keys"))
                        .col(text("name", 64).primary_key())
                        .col(text("value", 512))
                        .col(millis("created_at"))
                        .to_owned(),
                ),
            ],
        },
        Migration {
            version: 2,
            steps: vec![Step::Table(
                Table::create()
                    .table(name("audit_events"))
                    .col(id_column())
                    .col(millis("at"))
                    .col(text("event", 32))
                    .col(text("outcome", 8))
                    .col(ColumnDef::new(name("actor_id")).big_integer().null())
                    .col(ColumnDef::new(name("subject_id")).big_integer().null())
                    .col(text_null("username", 254))
                    .col(text_null("ip", 64))
                    .col(text_null("user_agent", 512))
                    .to_owned(),
            )],
        },
        Migration {
            version: 3,
            steps: vec![
                // Cache invalidations for the other nodes (auth/change_feed.rs).
                Step::Table(
                    Table::create()
                        .table(name("cache_events"))
                        .col(id_column())
                        .col(millis("at"))
                        .col(text("kind", 16))
                        .col(text("item", 64))
                        .to_owned(),
                ),
                index("cache_events", &["at"], false),
                // Failed sign-in windows, shared by every node (auth/throttle.rs).
                Step::Table(
                    Table::create()
                        .table(name("throttle_windows"))
                        .col(text("name", 160).primary_key())
                        .col(millis("first_failure"))
                        .col(ColumnDef::new(name("failures")).big_integer().not_null())
                        .to_owned(),
                ),
            ],
        },
        Migration {
            version: 4,
            // The admin search's `LIKE 'prefix%'` (store/users.rs): PostgreSQL serves it
            // from a btree only under the C collation or from a `text_pattern_ops` index;
            // without one it scans the table (a quarter of a second at 1,000,000 accounts).
            // SQLite searches by range and MySQL uses its own indexes, so both skip this.
            steps: vec![
                Step::Only(
                    Dialect::Postgres,
                    "CREATE INDEX IF NOT EXISTS ix_users_username_lower_pattern \
                     ON users (username_lower text_pattern_ops)",
                ),
                Step::Only(
                    Dialect::Postgres,
                    "CREATE INDEX IF NOT EXISTS ix_users_email_lower_pattern \
                     ON users (email_lower text_pattern_ops)",
                ),
            ],
        },
        Migration {
            version: 5,
            // How a change reached us: `cli` for the command line, `api` (or, for older
            // events, nothing) for HTTP.
            steps: vec![Step::Alter(
                Table::alter()
                    .table(name("audit_events"))
                    .add_column(text_null("via", 8))
                    .to_owned(),
            )],
        },
        Migration {
            version: 6,
            steps: vec![
                // When the account's address was last proven its owner's (a link mailed
                // to it was followed); NULL until then.
                Step::Alter(
                    Table::alter()
                        .table(name("users"))
                        .add_column(millis_null("email_verified_at"))
                        .to_owned(),
                ),
                // One-time tokens sent by mail (store/mail_tokens.rs), as hashes.
                Step::Table(
                    Table::create()
                        .table(name("mail_tokens"))
                        .col(id_column())
                        .col(text("token_hash", 64))
                        .col(text("purpose", 16))
                        .col(ColumnDef::new(name("user_id")).big_integer().not_null())
                        .col(text("email", 254))
                        .col(millis("created_at"))
                        .col(millis("expires_at"))
                        .col(millis_null("used_at"))
                        .foreign_key(&mut fk("mail_tokens", "user_id", "users", "id"))
                        .to_owned(),
                ),
                index("mail_tokens", &["token_hash"], true),
                index("mail_tokens", &["user_id", "purpose"], false),
                // The mail queue (store/mail_outbox.rs). No foreign key: a mail about an
                // account deleted meanwhile is skipped by the sender, not lost by a cascade.
                Step::Table(
                    Table::create()
                        .table(name("mail_outbox"))
                        .col(id_column())
                        .col(text("kind", 32))
                        .col(ColumnDef::new(name("user_id")).big_integer().null())
                        .col(text("email", 254))
                        .col(text_null("detail", 254))
                        .col(millis("created_at"))
                        .col(millis("next_attempt_at"))
                        .col(
                            ColumnDef::new(name("attempts"))
                                .big_integer()
                                .not_null()
                                .default(0),
                        )
                        .col(millis_null("locked_until"))
                        .col(text_null("locked_by", 64))
                        .col(millis_null("done_at"))
                        .col(text_null("outcome", 8))
                        .col(text_null("last_error", 512))
                        .to_owned(),
                ),
                index("mail_outbox", &["done_at", "next_attempt_at"], false),
            ],
        },
        Migration {
            version: 7,
            // How each session was signed in (`password`, `magic_link`); NULL for sessions
            // from before, which were all password sign-ins.
            steps: vec![Step::Alter(
                Table::alter()
                    .table(name("sessions"))
                    .add_column(text_null("method", 16))
                    .to_owned(),
            )],
        },
        Migration {
            version: 8,
            steps: vec![
                // The account's WebAuthn user handle: random, so an authenticator never
                // holds the database id; NULL until its first passkey.
                Step::Alter(
                    Table::alter()
                        .table(name("users"))
                        .add_column(text_null("webauthn_handle", 36))
                        .to_owned(),
                ),
                index("users", &["webauthn_handle"], true),
                // Passkeys (store/passkeys.rs): the credential as webauthn-rs keeps it, found
                // by the hash of its id (ids can be longer than an index allows).
                Step::Table(
                    Table::create()
                        .table(name("passkeys"))
                        .col(id_column())
                        .col(ColumnDef::new(name("user_id")).big_integer().not_null())
                        .col(text("credential_hash", 64))
                        .col(text("name", 64))
                        .col(ColumnDef::new(name("credential")).text().not_null())
                        .col(millis("created_at"))
                        .col(millis_null("last_used_at"))
                        .foreign_key(&mut fk("passkeys", "user_id", "users", "id"))
                        .to_owned(),
                ),
                index("passkeys", &["credential_hash"], true),
                index("passkeys", &["user_id"], false),
                // WebAuthn ceremonies begun and not yet finished (store/ceremonies.rs),
                // found by the hash of their challenge.
                Step::Table(
                    Table::create()
                        .table(name("webauthn_ceremonies"))
                        .col(id_column())
                        .col(text("challenge_hash", 64))
                        .col(text("purpose", 16))
                        .col(ColumnDef::new(name("user_id")).big_integer().null())
                        .col(ColumnDef::new(name("state")).text().not_null())
                        .col(millis("created_at"))
                        .col(millis("expires_at"))
                        .to_owned(),
                ),
                index("webauthn_ceremonies", &["challenge_hash"], true),
                index("webauthn_ceremonies", &["expires_at"], false),
                // One TOTP app per account (store/totp.rs): pending until confirmed;
                // `last_step` is the newest time step accepted, so no code works twice.
                Step::Table(
                    Table::create()
                        .table(name("totp_secrets"))
                        .col(
                            ColumnDef::new(name("user_id"))
                                .big_integer()
                                .not_null()
                                .primary_key(),
                        )
                        .col(text("secret", 64))
                        .col(millis("created_at"))
                        .col(millis_null("confirmed_at"))
                        .col(
                            ColumnDef::new(name("last_step"))
                                .big_integer()
                                .not_null()
                                .default(0),
                        )
                        .foreign_key(&mut fk("totp_secrets", "user_id", "users", "id"))
                        .to_owned(),
                ),
                Step::Table(
                    Table::create()
                        .table(name("recovery_codes"))
                        .col(id_column())
                        .col(ColumnDef::new(name("user_id")).big_integer().not_null())
                        .col(text("code_hash", 64))
                        .col(millis_null("used_at"))
                        .foreign_key(&mut fk("recovery_codes", "user_id", "users", "id"))
                        .to_owned(),
                ),
                index("recovery_codes", &["user_id", "code_hash"], false),
                // The second step of a sign-in (store/mfa_tokens.rs), as hashes.
                Step::Table(
                    Table::create()
                        .table(name("mfa_tokens"))
                        .col(id_column())
                        .col(text("token_hash", 64))
                        .col(ColumnDef::new(name("user_id")).big_integer().not_null())
                        .col(text("method", 16))
                        .col(
                            ColumnDef::new(name("enrolment"))
                                .big_integer()
                                .not_null()
                                .default(0),
                        )
                        .col(
                            ColumnDef::new(name("failures"))
                                .big_integer()
                                .not_null()
                                .default(0),
                        )
                        .col(millis("created_at"))
                        .col(millis("expires_at"))
                        .col(millis_null("used_at"))
                        .foreign_key(&mut fk("mfa_tokens", "user_id", "users", "id"))
                        .to_owned(),
                ),
                index("mfa_tokens", &["token_hash"], true),
            ],
        },
        Migration {
            version: SIGNING_KEYS,
            steps: vec![
                // Token signing keys (store/signing_keys.rs): published from
                // `activates_at - lead` on, signing from `activates_at`, published until
                // `retires_at`. The private key is sealed when a key-encryption key is set.
                Step::Table(
                    Table::create()
                        .table(name("signing_keys"))
                        .col(text("kid", 64).primary_key())
                        .col(text("alg", 8))
                        .col(ColumnDef::new(name("private_key")).text().not_null())
                        .col(millis("created_at"))
                        .col(millis("activates_at"))
                        .col(millis_null("retires_at"))
                        .to_owned(),
                ),
                // OpenID Connect relying parties (store/oauth_clients.rs). The secret is a
                // SHA-256 of 256 random bits; public clients have none.
                Step::Table(
                    Table::create()
                        .table(name("oauth_clients"))
                        .col(id_column())
                        .col(text("client_id", 64))
                        .col(text("name", 100))
                        .col(text_null("secret_hash", 64))
                        .col(ColumnDef::new(name("redirect_uris")).text().not_null())
                        .col(ColumnDef::new(name("post_logout_uris")).text().not_null())
                        .col(text("scopes", 255))
                        .col(
                            ColumnDef::new(name("public"))
                                .big_integer()
                                .not_null()
                                .default(0),
                        )
                        .col(millis("created_at"))
                        .to_owned(),
                ),
                index("oauth_clients", &["client_id"], true),
                // Authorization requests waiting for the user to sign in or consent, and
                // codes waiting to be exchanged (store/oauth_grants.rs), as hashes.
                Step::Table(
                    Table::create()
                        .table(name("oauth_pending"))
                        .col(id_column())
                        .col(text("kind", 8))
                        .col(text("token_hash", 64))
                        .col(text("client_id", 64))
                        .col(ColumnDef::new(name("user_id")).big_integer().null())
                        .col(ColumnDef::new(name("request")).text().not_null())
                        .col(millis("created_at"))
                        .col(millis("expires_at"))
                        .col(millis_null("used_at"))
                        .col(text_null("grant_session", 64))
                        .to_owned(),
                ),
                index("oauth_pending", &["token_hash"], true),
                index("oauth_pending", &["expires_at"], false),
                // What each user allowed each client; revocable from the profile.
                Step::Table(
                    Table::create()
                        .table(name("oauth_consents"))
                        .col(id_column())
                        .col(ColumnDef::new(name("user_id")).big_integer().not_null())
                        .col(text("client_id", 64))
                        .col(text("scopes", 255))
                        .col(millis("created_at"))
                        .foreign_key(&mut fk("oauth_consents", "user_id", "users", "id"))
                        .to_owned(),
                ),
                index("oauth_consents", &["user_id", "client_id"], true),
                // A session opened for a client (its grant): whose, and with what scopes.
                Step::Alter(
                    Table::alter()
                        .table(name("sessions"))
                        .add_column(text_null("client_id", 64))
                        .to_owned(),
                ),
                Step::Alter(
                    Table::alter()
                        .table(name("sessions"))
                        .add_column(text_null("scope", 255))
                        .to_owned(),
                ),
                index("sessions", &["client_id"], false),
            ],
        },
        Migration {
            version: 10,
            steps: vec![
                // The second factor a password or sign-in link sign-in completed with
                // (`totp`, `recovery_code`, `passkey`), for the ID token's `amr` and `acr`;
                // NULL when there was none.
                Step::Alter(
                    Table::alter()
                        .table(name("sessions"))
                        .add_column(text_null("second_factor", 16))
                        .to_owned(),
                ),
                // Room for a TOTP secret sealed with the key-encryption key (auth/keys.rs
                // `Sealer::seal_text`); SQLite does not hold text to its declared length.
                Step::Only(
                    Dialect::MySql,
                    "ALTER TABLE totp_secrets MODIFY secret VARCHAR(255) NOT NULL",
                ),
                Step::Only(
                    Dialect::Postgres,
                    "ALTER TABLE totp_secrets ALTER COLUMN secret TYPE VARCHAR(255)",
                ),
            ],
        },
        Migration {
            version: 11,
            // The OpenID Connect client an audit event concerns (registered, consented to,
            // signed in to); NULL for the rest.
            steps: vec![Step::Alter(
                Table::alter()
                    .table(name("audit_events"))
                    .add_column(text_null("client_id", 64))
                    .to_owned(),
            )],
        },
        Migration {
            version: 12,
            // The algorithm a client's ID tokens are signed with (`RS256`, `ES256`,
            // `EdDSA`); NULL for RS256, the one every relying party must check.
            steps: vec![Step::Alter(
                Table::alter()
                    .table(name("oauth_clients"))
                    .add_column(text_null("id_token_alg", 8))
                    .to_owned(),
            )],
        },
        Migration {
            version: 13,
            // Revoked `client_credentials` access tokens (store/revoked_tokens.rs), by
            // `jti`, kept until they would have expired: they belong to no session to end.
            steps: vec![
                Step::Table(
                    Table::create()
                        .table(name("revoked_tokens"))
                        .col(text("jti", 64).primary_key())
                        .col(text("client_id", 64))
                        .col(millis("expires_at"))
                        .col(millis("revoked_at"))
                        .to_owned(),
                ),
                index("revoked_tokens", &["expires_at"], false),
            ],
        },
        Migration {
            version: 14,
            // Per-client settings (docs/API.md §5, "Clients"): the grants it may use (space
            // separated; NULL: the defaults of its kind), its access tokens' lifetime in
            // seconds (NULL: the server's), where back-channel logout tokens go, whether it
            // must push its requests (PAR) and bind its tokens (DPoP), and whether an admin
            // marked it first-party (no consent page).
            steps: vec![
                add_column("oauth_clients", text_null("grant_types", 255)),
                add_column(
                    "oauth_clients",
                    ColumnDef::new(name("access_token_ttl"))
                        .big_integer()
                        .null()
                        .to_owned(),
                ),
                add_column(
                    "oauth_clients",
                    ColumnDef::new(name("backchannel_logout_uri"))
                        .text()
                        .null()
                        .to_owned(),
                ),
                add_column("oauth_clients", flag("require_par")),
                add_column("oauth_clients", flag("require_dpop")),
                add_column("oauth_clients", flag("first_party")),
                // Device authorizations (RFC 8628, store/device_codes.rs): the device code as
                // a hash, the user code as typed (normalised), and how far the user got.
                Step::Table(
                    Table::create()
                        .table(name("oauth_device_codes"))
                        .col(id_column())
                        .col(text("device_code_hash", 64))
                        .col(text("user_code", 16))
                        .col(text("client_id", 64))
                        .col(text("scope", 255))
                        .col(millis("created_at"))
                        .col(millis("expires_at"))
                        .col(millis("interval_ms"))
                        .col(millis_null("last_polled_at"))
                        .col(text("status", 8))
                        .col(ColumnDef::new(name("user_id")).big_integer().null())
                        .col(ColumnDef::new(name("sign_in")).text().null())
                        .to_owned(),
                ),
                index("oauth_device_codes", &["device_code_hash"], true),
                index("oauth_device_codes", &["user_code"], true),
                index("oauth_device_codes", &["expires_at"], false),
            ],
        },
        Migration {
            version: 15,
            steps: vec![
                // Which clients were given tokens on which browser session (the ID token's
                // `sid`), for back-channel logout (store/backchannel.rs): one row per
                // session and client, until the session ends.
                Step::Table(
                    Table::create()
                        .table(name("oauth_session_clients"))
                        .col(id_column())
                        .col(text("session_id", 64))
                        .col(text("client_id", 64))
                        .col(ColumnDef::new(name("user_id")).big_integer().not_null())
                        .col(millis("created_at"))
                        .to_owned(),
                ),
                index("oauth_session_clients", &["session_id", "client_id"], true),
                // Logout tokens to deliver: one per ended session and client, claimed by
                // one node at a time (a lease) and retried, as mail is.
                Step::Table(
                    Table::create()
                        .table(name("backchannel_outbox"))
                        .col(id_column())
                        .col(text("session_id", 64))
                        .col(text("client_id", 64))
                        .col(ColumnDef::new(name("user_id")).big_integer().not_null())
                        .col(millis("created_at"))
                        .col(millis("next_attempt_at"))
                        .col(
                            ColumnDef::new(name("attempts"))
                                .big_integer()
                                .not_null()
                                .default(0),
                        )
                        .col(millis_null("locked_until"))
                        .col(text_null("locked_by", 64))
                        .col(millis_null("done_at"))
                        .col(text_null("outcome", 8))
                        .col(text_null("last_error", 512))
                        .to_owned(),
                ),
                index("backchannel_outbox", &["session_id", "client_id"], true),
                index("backchannel_outbox", &["next_attempt_at"], false),
            ],
        },
        Migration {
            version: 16,
            steps: vec![
                // DPoP (RFC 9449): the key a grant's tokens are bound to (its thumbprint,
                // `cnf.jkt`); NULL for a grant without DPoP.
                add_column("sessions", text_null("dpop_jkt", 64)),
                // Proofs seen within their window (store/dpop_proofs.rs), by the hash of
                // their key and jti, so that a replay is refused on every node.
                Step::Table(
                    Table::create()
                        .table(name("dpop_proofs"))
                        .col(text("proof_hash", 64).primary_key())
                        .col(millis("expires_at"))
                        .to_owned(),
                ),
                index("dpop_proofs", &["expires_at"], false),
            ],
        },
        Migration {
            version: 17,
            // Authorization beyond the three roles (docs/API.md §2, "Roles, permissions and
            // groups"). Roles an admin defines share the `roles` table with the built-in
            // three (ids 1 to 3); `client_id` makes one an application role, seen only in
            // that client's tokens. Groups carry roles to their members; they do not nest.
            steps: vec![
                add_column("roles", text_null("description", 255)),
                add_column("roles", text_null("client_id", 64)),
                add_column("roles", millis_null("created_at")),
                Step::Table(
                    Table::create()
                        .table(name("permissions"))
                        .col(id_column())
                        .col(text("name", 100))
                        .col(text_null("description", 255))
                        .col(millis("created_at"))
                        .to_owned(),
                ),
                index("permissions", &["name"], true),
                Step::Table(
                    Table::create()
                        .table(name("role_permissions"))
                        .col(ColumnDef::new(name("role_id")).big_integer().not_null())
                        .col(
                            ColumnDef::new(name("permission_id"))
                                .big_integer()
                                .not_null(),
                        )
                        .primary_key(
                            Index::create()
                                .col(name("role_id"))
                                .col(name("permission_id")),
                        )
                        .foreign_key(&mut fk("role_permissions", "role_id", "roles", "id"))
                        .foreign_key(&mut fk(
                            "role_permissions",
                            "permission_id",
                            "permissions",
                            "id",
                        ))
                        .to_owned(),
                ),
                index("role_permissions", &["permission_id"], false),
                // `account_groups`, not `groups`: GROUPS is a reserved word in MySQL 8.
                Step::Table(
                    Table::create()
                        .table(name("account_groups"))
                        .col(id_column())
                        .col(text("name", 64))
                        .col(text("name_lower", 64))
                        .col(text_null("description", 255))
                        .col(millis("created_at"))
                        .to_owned(),
                ),
                index("account_groups", &["name_lower"], true),
                Step::Table(
                    Table::create()
                        .table(name("group_members"))
                        .col(ColumnDef::new(name("group_id")).big_integer().not_null())
                        .col(ColumnDef::new(name("user_id")).big_integer().not_null())
                        .primary_key(Index::create().col(name("group_id")).col(name("user_id")))
                        .foreign_key(&mut fk("group_members", "group_id", "account_groups", "id"))
                        .foreign_key(&mut fk("group_members", "user_id", "users", "id"))
                        .to_owned(),
                ),
                index("group_members", &["user_id"], false),
                Step::Table(
                    Table::create()
                        .table(name("group_roles"))
                        .col(ColumnDef::new(name("group_id")).big_integer().not_null())
                        .col(ColumnDef::new(name("role_id")).big_integer().not_null())
                        .primary_key(Index::create().col(name("group_id")).col(name("role_id")))
                        .foreign_key(&mut fk("group_roles", "group_id", "account_groups", "id"))
                        .foreign_key(&mut fk("group_roles", "role_id", "roles", "id"))
                        .to_owned(),
                ),
                index("group_roles", &["role_id"], false),
                index("user_roles", &["role_id"], false),
                // What an audited change was about beyond its subject: the role, group or
                // key, and what changed.
                add_column("audit_events", text_null("detail", 512)),
                // Accounts for machines: no interactive sign-in, only API keys.
                add_column("users", flag("service_account")),
                // API keys (store/api_keys.rs): the hash of the secret, never the secret; the
                // roles and permissions given (space separated), always within the owner's.
                Step::Table(
                    Table::create()
                        .table(name("api_keys"))
                        .col(id_column())
                        .col(ColumnDef::new(name("user_id")).big_integer().not_null())
                        .col(text("name", 64))
                        .col(text("key_hash", 64))
                        .col(text("prefix", 16))
                        .col(ColumnDef::new(name("roles")).text().null())
                        .col(ColumnDef::new(name("permissions")).text().null())
                        .col(ColumnDef::new(name("created_by")).big_integer().null())
                        .col(millis("created_at"))
                        .col(millis("expires_at"))
                        .col(millis_null("last_used_at"))
                        .col(millis_null("revoked_at"))
                        .foreign_key(&mut fk("api_keys", "user_id", "users", "id"))
                        .to_owned(),
                ),
                index("api_keys", &["key_hash"], true),
                index("api_keys", &["user_id"], false),
            ],
        },
        Migration {
            version: 18,
            // Upstream identity providers (docs/API.md §2, "Identity providers"): a
            // provider's settings are one JSON document (they differ by kind), its client
            // secret sealed apart; an account's identities at them, one per provider and
            // subject.
            steps: vec![
                Step::Table(
                    Table::create()
                        .table(name("identity_providers"))
                        .col(text("id", 32).primary_key())
                        .col(text("kind", 16))
                        .col(ColumnDef::new(name("config")).text().not_null())
                        .col(ColumnDef::new(name("client_secret")).text().null())
                        .col(flag("enabled"))
                        .col(millis("created_at"))
                        .col(millis("updated_at"))
                        .to_owned(),
                ),
                Step::Table(
                    Table::create()
                        .table(name("user_identities"))
                        .col(id_column())
                        .col(ColumnDef::new(name("user_id")).big_integer().not_null())
                        .col(text("provider_id", 32))
                        .col(text("subject", 255))
                        .col(text_null("email", 254))
                        .col(millis("created_at"))
                        .col(millis_null("last_used_at"))
                        .foreign_key(&mut fk("user_identities", "user_id", "users", "id"))
                        .foreign_key(&mut fk(
                            "user_identities",
                            "provider_id",
                            "identity_providers",
                            "id",
                        ))
                        .to_owned(),
                ),
                index("user_identities", &["provider_id", "subject"], true),
                index("user_identities", &["user_id"], false),
                // A sign-in begun at a provider, until its callback (store/upstream_logins.rs):
                // by the hash of its `state`, so that any node finishes it, once.
                Step::Table(
                    Table::create()
                        .table(name("upstream_logins"))
                        .col(text("state_hash", 64).primary_key())
                        .col(text("provider_id", 32))
                        .col(text_null("nonce", 64))
                        .col(text("code_verifier", 64))
                        .col(ColumnDef::new(name("user_id")).big_integer().null())
                        .col(text_null("return_to", 512))
                        .col(millis("created_at"))
                        .col(millis("expires_at"))
                        .to_owned(),
                ),
                index("upstream_logins", &["expires_at"], false),
                // An account made at a first sign-in with a provider has no password it
                // knows (a random one, hashed and forgotten) until it sets one.
                add_column("users", flag("password_unset")),
            ],
        },
        Migration {
            version: 19,
            // Branding (docs/API.md §2, "Branding"): one row of what the operator set, and
            // the logos Portcullis serves itself (the product's, and a client's), by owner.
            steps: vec![
                Step::Table(
                    Table::create()
                        .table(name("branding"))
                        .col(
                            ColumnDef::new(name("id"))
                                .big_integer()
                                .not_null()
                                .primary_key(),
                        )
                        .col(text_null("product_name", 255))
                        .col(text_null("primary_color", 7))
                        .col(text_null("footer_text", 255))
                        .col(text_null("footer_url", 2000))
                        .col(millis("updated_at"))
                        .to_owned(),
                ),
                Step::Table(
                    Table::create()
                        .table(name("logos"))
                        .col(text("owner", 100).primary_key())
                        .col(text("content_type", 32))
                        .col(ColumnDef::new(name("bytes")).blob().not_null())
                        .col(millis("updated_at"))
                        .to_owned(),
                ),
                // MySQL's BLOB holds 64 KiB; a logo may have 256.
                Step::Only(
                    Dialect::MySql,
                    "ALTER TABLE logos MODIFY bytes MEDIUMBLOB NOT NULL",
                ),
            ],
        },
    ]
}

fn builder(dialect: Dialect) -> &'static dyn SchemaBuilder {
    match dialect {
        Dialect::Sqlite => &SqliteQueryBuilder,
        Dialect::MySql => &MysqlQueryBuilder,
        Dialect::Postgres => &PostgresQueryBuilder,
    }
}

/// The migration that made `signing_keys`: its ledger row is what nodes lock to take turns
/// adding a key (store/signing_keys.rs), a row every migrated database has.
pub const SIGNING_KEYS: i64 = 9;

/// Any number chosen for this lock alone (PostgreSQL advisory locks share one key space
/// per database).
const MIGRATION_LOCK: i64 = 0x706f_7274_6375;

/// The version of every migration there is, in order: what a migrated database records.
pub fn versions() -> Vec<i64> {
    migrations().iter().map(|m| m.version).collect()
}

/// Applies every pending migration, then seeds the roles and the built-in permissions.
/// Safe to run on every start and from several processes: on PostgreSQL, whose concurrent
/// `CREATE ... IF NOT EXISTS` can fail, nodes take turns under an advisory lock; elsewhere
/// tables are created only if missing, "already exists" is not an error, and seeding
/// ignores rows that exist.
pub async fn migrate(db: &Db) -> Result<(), DbError> {
    // Held by an otherwise empty transaction on its own connection; released at commit,
    // or by the rollback if anything below fails.
    let turn = match db.dialect {
        Dialect::Postgres => {
            let mut tx = db.pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(MIGRATION_LOCK)
                .execute(&mut *tx)
                .await?;
            Some(tx)
        }
        _ => None,
    };
    apply(db).await?;
    if let Some(tx) = turn {
        tx.commit().await?;
    }
    Ok(())
}

async fn apply(db: &Db) -> Result<(), DbError> {
    let ledger = Table::create()
        .table(name("schema_migrations"))
        .if_not_exists()
        .col(
            ColumnDef::new(name("version"))
                .big_integer()
                .not_null()
                .primary_key(),
        )
        .col(millis("applied_at"))
        .to_owned()
        .build_any(builder(db.dialect));
    if let Err(e) = sqlx::query(&ledger).execute(&db.pool).await {
        if !already_exists(&e) && !is_unique_violation(&e) {
            return Err(e.into());
        }
    }

    let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations")
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|row| row.try_get::<i64, _>(0))
        .collect::<Result<_, _>>()?;

    for migration in migrations() {
        if applied.contains(&migration.version) {
            continue;
        }
        for step in migration.steps {
            let sql = match step {
                Step::Table(mut t) => t.if_not_exists().build_any(builder(db.dialect)),
                Step::Index(i) => i.build_any(builder(db.dialect)),
                Step::Alter(a) => a.build_any(builder(db.dialect)),
                Step::Only(dialect, sql) if dialect == db.dialect => sql.to_owned(),
                Step::Only(..) => continue,
            };
            if let Err(e) = sqlx::query(&sql).execute(&db.pool).await {
                // Another node may be applying the same migration right now (PostgreSQL
                // reports a concurrent CREATE ... IF NOT EXISTS as a catalog unique violation).
                if !already_exists(&e) && !is_unique_violation(&e) {
                    return Err(e.into());
                }
            }
        }
        let record = db.sql("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)");
        let done = sqlx::query(&record)
            .bind(migration.version)
            .bind(crate::clock::Clock::default().now_ms())
            .execute(&db.pool)
            .await;
        if let Err(e) = done {
            if !is_unique_violation(&e) {
                return Err(e.into());
            }
        }
    }
    seed(db).await
}

/// The rows every database has: the built-in roles (fixed ids) and the permissions
/// Portcullis itself checks (`PermissionName::BUILT_IN`), so that roles can give them. Made
/// at every start if missing; a row another node made first is no error.
async fn seed(db: &Db) -> Result<(), DbError> {
    let now = crate::clock::Clock::default().now_ms();
    let role = db.sql("INSERT INTO roles (id, name) VALUES (?, ?)");
    let permission =
        db.sql("INSERT INTO permissions (name, description, created_at) VALUES (?, ?, ?)");
    let rows =
        crate::domain::Role::ALL
            .into_iter()
            .map(|r| sqlx::query(&role).bind(r.id()).bind(r.name()))
            .chain(crate::domain::PermissionName::BUILT_IN.into_iter().map(
                |(name, description)| {
                    sqlx::query(&permission)
                        .bind(name)
                        .bind(description)
                        .bind(now)
                },
            ));
    for insert in rows {
        if let Err(e) = insert.execute(&db.pool).await {
            if !is_unique_violation(&e) {
                return Err(e.into());
            }
        }
    }
    Ok(())
}

fn already_exists(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| {
        let msg = d.message().to_ascii_lowercase();
        msg.contains("already exists")
            || msg.contains("duplicate key name")
            || msg.contains("duplicate column name")
    })
}
