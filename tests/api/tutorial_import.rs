//! `portcullis import tutorial`: a database shaped as the tutorial's Sequelize models left
//! it, with the messy rows real ones have, imported by the real binary.

use serde_json::json;
use sqlx::Connection;

use crate::helpers::*;
use crate::on_every_database;

on_every_database!(tutorial_users_are_imported_and_sign_in_with_their_old_password);

fn bcryptjs_hash(password: &str) -> String {
    // bcryptjs, as the tutorial used it: cost 8, `$2a$`, and only the first 72 bytes count.
    let bytes = &password.as_bytes()[..password.len().min(72)];
    bcrypt::hash_with_result(bytes, 8)
        .unwrap()
        .format_for_version(bcrypt::Version::TwoA)
}

/// Creates the tutorial's three tables in `url` and fills them.
async fn make_tutorial_database(kind: &DbKind, url: &str) {
    let url = match kind {
        DbKind::Sqlite => format!("{url}?mode=rwc"),
        _ => url.to_string(),
    };
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    let q = |name: &str| match kind {
        DbKind::MySql(_) => format!("`{name}`"),
        _ => format!("\"{name}\""),
    };
    let (id, stamp) = match kind {
        DbKind::MySql(_) => ("INTEGER NOT NULL AUTO_INCREMENT", "DATETIME NOT NULL"),
        DbKind::Postgres(_) => ("SERIAL", "TIMESTAMP WITH TIME ZONE NOT NULL"),
        DbKind::Sqlite => ("INTEGER", "DATETIME NOT NULL"),
    };
    let (created, updated, role_id, user_id) =
        (q("createdAt"), q("updatedAt"), q("roleId"), q("userId"));
    for ddl in [
        format!("CREATE TABLE users (id {id}, username VARCHAR(255), email VARCHAR(255), password VARCHAR(255), {created} {stamp}, {updated} {stamp}, PRIMARY KEY (id))"),
        format!("CREATE TABLE roles (id INTEGER NOT NULL, name VARCHAR(255), {created} {stamp}, {updated} {stamp}, PRIMARY KEY (id))"),
        format!("CREATE TABLE user_roles ({created} {stamp}, {updated} {stamp}, {role_id} INTEGER NOT NULL, {user_id} INTEGER NOT NULL, PRIMARY KEY ({role_id}, {user_id}))"),
    ] {
        sqlx::query(&ddl).execute(&mut conn).await.unwrap();
    }
    let now = "CURRENT_TIMESTAMP";
    for (rid, name) in [
        (1, "user"),
        (2, "moderator"),
        (3, "admin"),
        (4, "superuser"),
    ] {
        sqlx::query(&format!("INSERT INTO roles (id, name, {created}, {updated}) VALUES ({rid}, '{name}', {now}, {now})"))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let long = "y".repeat(73);
    // id, username, email, stored password, role ids
    type Row<'a> = (i64, Option<&'a str>, Option<&'a str>, String, Vec<i64>);
    let users: Vec<Row> = vec![
        (
            1,
            Some("alice"),
            Some("alice@example.com"),
            bcryptjs_hash("old-password-1"),
            vec![1],
        ),
        (
            2,
            Some("Alice"),
            Some("alice2@example.com"),
            bcryptjs_hash("whatever-pw"),
            vec![1],
        ),
        (
            3,
            Some("bob"),
            Some("ALICE@example.com"),
            bcryptjs_hash("whatever-pw"),
            vec![1],
        ),
        (
            4,
            None,
            Some("nobody@example.com"),
            bcryptjs_hash("whatever-pw"),
            vec![1],
        ),
        (
            5,
            Some("carol"),
            Some("carol@example.com"),
            bcryptjs_hash("carols-old-pw"),
            vec![],
        ),
        (
            6,
            Some("dave"),
            Some("dave@example.com"),
            bcryptjs_hash("daves-old-pw"),
            vec![1, 2, 3],
        ),
        (
            7,
            Some("erin"),
            Some("erin@example.com"),
            bcryptjs_hash("erins-old-pw"),
            vec![4],
        ),
        (
            8,
            Some("frank smith"),
            Some("frank@example.com"),
            bcryptjs_hash("whatever-pw"),
            vec![1],
        ),
        (
            9,
            Some("gina"),
            Some("gina@example.com"),
            "plaintext-password".to_string(),
            vec![1],
        ),
        (
            10,
            Some("henry"),
            Some("henry@example.com"),
            bcryptjs_hash(&long),
            vec![1],
        ),
    ];
    for (uid, username, email, hash, roles) in users {
        let text = |v: Option<&str>| v.map(|s| format!("'{s}'")).unwrap_or_else(|| "NULL".into());
        sqlx::query(&format!(
            "INSERT INTO users (id, username, email, password, {created}, {updated}) VALUES ({uid}, {}, {}, '{hash}', {now}, {now})",
            text(username),
            text(email)
        ))
        .execute(&mut conn)
        .await
        .unwrap();
        for rid in roles {
            sqlx::query(&format!("INSERT INTO user_roles ({created}, {updated}, {role_id}, {user_id}) VALUES ({now}, {now}, {rid}, {uid})"))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }
    conn.close().await.unwrap();
}

fn import(target_url: &str, source_url: &str, dry_run: bool) -> String {
    let mut args = vec!["import", "tutorial", "--from", source_url];
    if dry_run {
        args.push("--dry-run");
    }
    let out = binary_on(target_url).args(&args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "import failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

async fn tutorial_users_are_imported_and_sign_in_with_their_old_password(kind: DbKind) {
    let source = TestDb::create(&kind).await;
    make_tutorial_database(&kind, &source.url).await;
    let target = TestDb::create(&kind).await;
    let target_url = target.url.clone();

    let dry = import(&target_url, &source.url, true);
    assert!(dry.contains("5 user(s) would be imported"), "{dry}");
    assert!(dry.contains("nothing was written"));

    let app = TestApp::spawn_on(target, |_| {}).await;
    assert_eq!(
        app.signin_raw("alice", "old-password-1").await.status(),
        401,
        "a dry run writes nothing"
    );

    let report = import(&target_url, &source.url, false);
    assert!(report.contains("5 user(s) imported"), "{report}");
    assert!(report.contains("5 user(s) skipped"), "{report}");
    for expected in [
        "skipped id 2: username `Alice` duplicates id 1",
        "skipped id 3: email `ALICE@example.com` duplicates id 1",
        "skipped id 4: no username or no email",
        "skipped id 8: username `frank smith` is not valid",
        "skipped id 9: password is not a bcrypt hash",
        "note id 5: had no role: given `user`",
        "note id 7: unknown role `superuser` ignored",
        "roles mapped: admin=1 moderator=1 user=5",
    ] {
        assert!(
            report.contains(expected),
            "missing `{expected}` in:\n{report}"
        );
    }

    let alice = app.signin("alice", "old-password-1").await;
    assert_eq!(alice.body["roles"], json!(["ROLE_USER"]));
    let dave = app.signin("DAVE", "daves-old-pw").await;
    assert_eq!(
        dave.body["roles"],
        json!(["ROLE_USER", "ROLE_MODERATOR", "ROLE_ADMIN"])
    );
    app.signin("carol@example.com", "carols-old-pw").await;
    app.signin("erin", "erins-old-pw").await;

    // The bcrypt hash is gone after the first sign-in: an argon2id hash stands in its place.
    let db = &app.state().db;
    let sql = db.sql("SELECT password_hash FROM users WHERE username_lower = ?");
    let hash: String = sqlx::Row::get(
        &sqlx::query(&sql)
            .bind("alice")
            .fetch_one(&db.pool)
            .await
            .unwrap(),
        0,
    );
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    app.signin("alice", "old-password-1").await;
    assert_eq!(
        app.signin_raw("alice", "old-password-2").await.status(),
        401
    );

    // bcrypt would take the first 72 bytes of a longer password; Portcullis refuses it.
    assert_eq!(app.signin_raw("henry", &"y".repeat(73)).await.status(), 401);
    app.signin("henry", &"y".repeat(72)).await;

    let again = import(&target_url, &source.url, false);
    assert!(again.contains("0 user(s) imported"), "{again}");
    assert!(
        again.contains("5 user(s) already present and left unchanged"),
        "{again}"
    );
    app.signin("alice", "old-password-1").await;
    app.stop().await;
}
