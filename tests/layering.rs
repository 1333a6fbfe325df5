//! docs/ARCHITECTURE.md's layers, checked on the source rather than by eye: each layer
//! names only the layers below it, and three crates stay where they belong (the database
//! driver in `store/` and `db/`, the web framework and the handlers' state in `http/` and
//! the server). Comments are left out of the check: a comment may name anything.
use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// Every `.rs` file under `dir`, as (path relative to the crate, its code without comments).
fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("src/ reads")
        .map(|e| e.expect("an entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("a source file reads");
            let relative = path
                .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                .expect("under the crate")
                .to_string_lossy()
                .into_owned();
            out.push((relative, code_only(&text)));
        }
    }
}

/// The text without `//` comments (line and doc comments; a `//` inside a string cuts the
/// rest of its line too, which can only hide a name, never invent one).
fn code_only(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `code` names `word` as a whole identifier (or path segment).
fn names(code: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    code.match_indices(word).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

fn all_sources() -> Vec<(String, String)> {
    let mut out = Vec::new();
    sources(Path::new(SRC), &mut out);
    assert!(out.len() > 50, "read only {} files under {SRC}", out.len());
    out
}

#[test]
fn each_crate_stays_in_its_layer() {
    let rules: [(&str, &[&str]); 3] = [
        ("AppState", &["src/http/", "src/app.rs", "src/server.rs"]),
        ("sqlx", &["src/store/", "src/db/"]),
        ("axum", &["src/http/", "src/server.rs"]),
    ];
    let mut breaches = Vec::new();
    for (path, code) in all_sources() {
        for (word, allowed) in rules {
            if names(&code, word) && !allowed.iter().any(|a| path.starts_with(a)) {
                breaches.push(format!("{path} names {word} (allowed in {allowed:?} only)"));
            }
        }
    }
    assert!(breaches.is_empty(), "{}", breaches.join("\n"));
}

#[test]
fn each_layer_names_only_the_layers_below_it() {
    // The layer, and the modules of the crate it must not name (docs/ARCHITECTURE.md's
    // drawing). audit, metrics, clock, redis_link and config sit beside every layer.
    let above = |names: &[&'static str]| names.to_vec();
    let layers: [(&str, Vec<&str>); 7] = [
        (
            "src/domain/",
            above(&[
                "db", "store", "auth", "mail", "service", "http", "app", "server", "cli",
            ]),
        ),
        (
            "src/db/",
            above(&[
                "store", "auth", "mail", "service", "http", "app", "server", "cli",
            ]),
        ),
        (
            "src/store/",
            above(&["auth", "mail", "service", "http", "app", "server", "cli"]),
        ),
        (
            "src/auth/",
            above(&["mail", "service", "http", "app", "server", "cli"]),
        ),
        (
            "src/mail/",
            above(&["service", "http", "app", "server", "cli"]),
        ),
        ("src/service/", above(&["http", "app", "server", "cli"])),
        ("src/http/", above(&["cli"])),
    ];
    let mut breaches = Vec::new();
    let mut checked = 0;
    for (path, code) in all_sources() {
        for (layer, forbidden) in &layers {
            if !path.starts_with(layer) {
                continue;
            }
            checked += 1;
            for module in forbidden {
                if names(&code, &format!("crate::{module}")) {
                    breaches.push(format!(
                        "{path} ({layer}) names crate::{module}, a layer above it"
                    ));
                }
            }
        }
    }
    assert!(checked > 40, "only {checked} files were in a layer");
    assert!(breaches.is_empty(), "{}", breaches.join("\n"));
}

#[test]
fn the_check_sees_a_breach() {
    // A breach written as the code would write it is found; one in a comment is not.
    assert!(names("use crate::http::error::ApiError;", "crate::http"));
    assert!(names(
        &code_only("let pool: sqlx::AnyPool = todo!();"),
        "sqlx"
    ));
    assert!(!names(&code_only("// sqlx closes the connection"), "sqlx"));
    assert!(!names("use crate::httpx::Thing;", "crate::http"));
    assert!(!names("MyAppState", "AppState"));
}
