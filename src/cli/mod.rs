//! The `portcullis` command line (docs/API.md §3).
mod branding;
mod clients;
mod keys;
mod providers;
mod rights;

use std::io::BufRead;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use crate::auth::notify::Notifier;
use crate::auth::password::PasswordHasher;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{self, Db};
use crate::domain::{PasswordPolicy, PasswordRejection};
use crate::server::Server;
use crate::service::admin::{self, Actor, AdminError, UserChange};
use crate::service::recovery::{self, RecoveryError};
use crate::service::signup::{self, NewAccount, Requester, SignupError};
use crate::store::{self, users::UserRecord};
use secrecy::{ExposeSecret, SecretString};

#[derive(Parser)]
#[command(
    name = "portcullis",
    version,
    about = "Authentication and authorization service"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Apply migrations, seed roles, serve the API (the default).
    Serve {
        /// Write every mail to the log instead of sending it (links included): for trying
        /// the mail flows on one's own machine, never for a real deployment.
        #[arg(long)]
        dev_mail: bool,
    },
    /// Apply migrations and exit.
    Migrate,
    /// Print the OpenAPI document (what /api/openapi.json serves) and exit; needs no database.
    Openapi,
    /// Account administration without the web.
    #[command(subcommand)]
    User(UserCommand),
    /// Import accounts from another system.
    #[command(subcommand)]
    Import(ImportCommand),
    /// The keys tokens are signed with.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// OpenID Connect clients (relying parties).
    #[command(subcommand)]
    Client(clients::ClientCommand),
    /// Roles: define, change, delete and list them.
    #[command(subcommand)]
    Role(rights::RoleCommand),
    /// Permissions, which roles give: define, delete and list them.
    #[command(subcommand)]
    Permission(rights::PermissionCommand),
    /// Groups, which carry roles to their members: define, change, delete and list them,
    /// and list their members (`user add-to-group` puts an account in one).
    #[command(subcommand)]
    Group(rights::GroupCommand),
    /// Upstream identity providers people may sign in with: add, change, delete and list
    /// them.
    #[command(subcommand)]
    Provider(providers::ProviderCommand),
    /// The product name, colour, footer link and logo the pages and mails show.
    #[command(subcommand)]
    Branding(branding::BrandingCommand),
}

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import the users and roles of the Node.js tutorial's database (bcrypt hashes kept).
    Tutorial {
        /// mysql://, postgres:// or sqlite:// URL of the tutorial's database.
        #[arg(long)]
        from: String,
        /// Report what would happen and write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an account. Without --password-stdin a strong password is generated and printed once.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// user, moderator or admin; repeat for several (user is always included).
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Replace an account's roles (user is always kept).
    SetRoles {
        username: String,
        #[arg(required = true)]
        roles: Vec<String>,
        /// Allow taking the admin role from the last enabled admin (audited).
        #[arg(long)]
        force: bool,
    },
    /// Disable an account and end all its sessions.
    Disable {
        username: String,
        /// Allow disabling the last enabled admin (audited).
        #[arg(long)]
        force: bool,
    },
    /// Enable a disabled account.
    Enable { username: String },
    /// Print a password reset link for an account (a username or email), for an operator
    /// without mail to hand over; it works once, for PORTCULLIS_RESET_TTL.
    ResetLink { username: String },
    /// Put an account in a group: it then has the roles the group carries.
    AddToGroup {
        /// The account's username (or email).
        username: String,
        /// The group's name (any case).
        group: String,
    },
    /// Take an account out of a group: it loses the roles the group carried (its own stay).
    RemoveFromGroup {
        /// The account's username (or email).
        username: String,
        /// The group's name (any case).
        group: String,
    },
}

pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command.unwrap_or(Command::Serve { dev_mail: false }) {
        Command::Serve { dev_mail } => {
            let mut settings = cli.settings;
            settings.dev_mail = dev_mail;
            serve(settings).await
        }
        Command::Migrate => migrate(&cli.settings).await,
        Command::Openapi => print_openapi(),
        Command::User(command) => user(&cli.settings, command).await,
        Command::Import(ImportCommand::Tutorial { from, dry_run }) => {
            import_tutorial(&cli.settings, &from, dry_run).await
        }
        Command::Keys(command) => keys::run(&cli.settings, command).await,
        Command::Client(command) => clients::run(&cli.settings, command).await,
        Command::Role(command) => rights::role(&cli.settings, command).await,
        Command::Permission(command) => rights::permission(&cli.settings, command).await,
        Command::Group(command) => rights::group(&cli.settings, command).await,
        Command::Provider(command) => providers::run(&cli.settings, command).await,
        Command::Branding(command) => branding::run(&cli.settings, command).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("portcullis: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    // The stop signals are caught from before the first connection is taken: a SIGTERM
    // that comes as soon as a request was answered must stop gracefully, not kill.
    let stop = StopSignals::listen();
    let server = Server::start(settings, Clock::default()).await?;
    // One line for each listener and mode, so that what is on, and where, is never a guess.
    let state = &server.state;
    tracing::info!("Portcullis listening on http://{}", server.addr);
    tracing::info!(
        "database: {}",
        state.db.describe(state.settings.database_url.expose())
    );
    match server.metrics_addr {
        Some(addr) => tracing::info!("metrics listening on http://{addr}/metrics"),
        None => tracing::info!("metrics: off (PORTCULLIS_METRICS_BIND)"),
    }
    match state.mail.as_ref().map(|m| &m.transport) {
        Some(crate::mail::Transport::Log) => {
            tracing::info!("mail: --dev-mail: mails are written to this log, none is sent")
        }
        Some(crate::mail::Transport::Smtp(_)) => tracing::info!("mail: sent by SMTP"),
        None => tracing::info!("mail: off (PORTCULLIS_SMTP_URL, or serve --dev-mail)"),
    }
    stop.wait().await;
    tracing::info!("shutting down: finishing in-flight requests");
    server.stop().await
}

/// Ctrl-C and SIGTERM, listened for from the moment they are made.
struct StopSignals {
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl StopSignals {
    fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            StopSignals {
                terminate: signal(SignalKind::terminate()).ok(),
                interrupt: signal(SignalKind::interrupt()).ok(),
            }
        }
        #[cfg(not(unix))]
        StopSignals {}
    }

    async fn wait(self) {
        #[cfg(unix)]
        {
            async fn next(signal: Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                _ = next(self.terminate) => {},
                _ = next(self.interrupt) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

async fn open_db(settings: &Settings) -> anyhow::Result<Db> {
    let db = Db::connect(settings.database_url.expose()).await?;
    if let Some(file) = db.sqlite_file.as_ref().filter(|f| f.created) {
        // A relative DATABASE_URL is relative to the working directory: a command run from
        // another folder than the server's would otherwise use a new, empty database unseen.
        eprintln!(
            "portcullis: created a new SQLite database at {} (DATABASE_URL is relative to the working directory)",
            file.path.display()
        );
    }
    db::migrate(&db).await.context("applying migrations")?;
    Ok(db)
}

fn print_openapi() -> anyhow::Result<()> {
    use std::io::Write;
    let document = serde_json::to_string_pretty(&crate::http::router::openapi())?;
    match writeln!(std::io::stdout().lock(), "{document}") {
        // A reader that stopped early (`| head`) is no error of ours.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        done => done.context("writing the document"),
    }
}

async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    open_db(settings).await?;
    println!("Migrations applied; roles seeded.");
    Ok(())
}

async fn user(settings: &Settings, command: UserCommand) -> anyhow::Result<()> {
    let db = open_db(settings).await?;
    let clock = Clock::default();
    match command {
        UserCommand::Create {
            username,
            email,
            roles,
            password_stdin,
        } => {
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("reading the password from standard input")?;
                let line = line.strip_suffix('\n').unwrap_or(&line);
                let line = line.strip_suffix('\r').unwrap_or(line);
                (SecretString::from(line), false)
            } else {
                (SecretString::from(generate_password()), true)
            };
            let policy = PasswordPolicy::new(settings.password_min_length as usize);
            let hasher =
                Arc::new(PasswordHasher::new(settings.argon2).map_err(anyhow::Error::msg)?);
            let account = NewAccount {
                username: &username,
                email: &email,
                password: password.expose_secret(),
                roles: &roles,
            };
            let created = signup::signup(
                &db,
                &clock,
                &hasher,
                &policy,
                None,
                Requester::CommandLine,
                account,
            )
            .await
            .map_err(|e| match e {
                SignupError::Password(PasswordRejection::Invalid(why)) => anyhow::anyhow!(why),
                SignupError::Password(PasswordRejection::TooCommon) => {
                    anyhow::anyhow!("password is too common")
                }
                SignupError::UnknownRole(name) => {
                    anyhow::anyhow!("role `{name}` does not exist (use user, moderator or admin)")
                }
                SignupError::UsernameTaken => {
                    anyhow::anyhow!("username `{username}` is already in use")
                }
                SignupError::EmailTaken => anyhow::anyhow!("email `{email}` is already in use"),
                other => other.into(),
            })?;
            println!(
                "Created user {} (id {}) with roles {}.",
                created.username.as_str(),
                created.id,
                created.roles.authorities().join(", ")
            );
            if generated {
                println!(
                    "Password (shown once, store it now): {}",
                    password.expose_secret()
                );
            }
        }
        UserCommand::SetRoles {
            username,
            roles,
            force,
        } => {
            let change = UserChange {
                roles: Some(roles),
                disabled: None,
            };
            let user = administer(&db, &clock, &username, change, force).await?;
            println!(
                "{username} now has roles {}.",
                user.authorities().join(", ")
            );
        }
        UserCommand::Disable { username, force } => {
            let change = UserChange {
                roles: None,
                disabled: Some(true),
            };
            administer(&db, &clock, &username, change, force).await?;
            println!("{username} is disabled; every session of it has ended.");
        }
        UserCommand::Enable { username } => {
            let change = UserChange {
                roles: None,
                disabled: Some(false),
            };
            administer(&db, &clock, &username, change, false).await?;
            println!("{username} is enabled.");
        }
        UserCommand::ResetLink { username } => {
            let links = crate::app::links(settings);
            let link = recovery::reset_link(&db, &clock, &links, &username)
                .await
                .map_err(|e| match e {
                    RecoveryError::Gone => anyhow::anyhow!("no account named {username}"),
                    e => anyhow::Error::new(e),
                })?;
            println!("{link}");
        }
        UserCommand::AddToGroup { username, group } => {
            rights::membership(&db, &clock, &username, &group, true).await?;
        }
        UserCommand::RemoveFromGroup { username, group } => {
            rights::membership(&db, &clock, &username, &group, false).await?;
        }
    }
    db.pool.close().await;
    Ok(())
}

async fn import_tutorial(settings: &Settings, from: &str, dry_run: bool) -> anyhow::Result<()> {
    if let Some(path) = from
        .strip_prefix("sqlite://")
        .map(|p| p.split('?').next().unwrap_or(p))
    {
        if !std::path::Path::new(path).exists() {
            bail!("the tutorial database {path} does not exist");
        }
    }
    let source = Db::connect(from)
        .await
        .context("opening the tutorial database")?;
    let target = open_db(settings).await?;
    let started = std::time::Instant::now();
    let report = crate::service::import::run(&source, &target, dry_run).await?;
    print!("{}", report.summary(dry_run));
    println!("took {:.1} s", started.elapsed().as_secs_f64());
    source.pool.close().await;
    target.pool.close().await;
    Ok(())
}

/// The admin API's use case, as an operator on the host: same rules, same audit trail
/// (marked `cli`), and the running servers hear of it through the database.
async fn administer(
    db: &Db,
    clock: &Clock,
    username: &str,
    change: UserChange,
    force: bool,
) -> anyhow::Result<UserRecord> {
    let Some(user) = store::users::find_by_login(db, username).await? else {
        bail!("no user named `{username}`");
    };
    let notify = Notifier {
        db,
        clock,
        redis: None,
        cache: None,
    };
    let actor = Actor::CommandLine { force };
    admin::update_user(&notify, actor, user.id, change)
        .await
        .map_err(|e| match e {
            AdminError::LastAdmin => anyhow::anyhow!(
                "`{username}` is the last enabled admin; the change would leave none \
                 (make another admin first, or repeat with --force)"
            ),
            AdminError::NotFound => anyhow::anyhow!("no user named `{username}`"),
            AdminError::UnknownRole(name) => anyhow::anyhow!("role `{name}` does not exist"),
            other => other.into(),
        })
}

/// 24 characters from 144 random bits.
fn generate_password() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 18];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
