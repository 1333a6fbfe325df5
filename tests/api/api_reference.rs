//! docs/API.md, the project's own API reference, cannot drift from the code (issue 11): it
//! is checked against the OpenAPI document the server serves, and against the settings and
//! commands the binary declares.
//!
//! - every operation of the document has exactly one heading "### `METHOD /path`";
//! - every such heading is an operation of the document, but for `NOT_IN_OPENAPI`;
//! - every status the document lists for an operation has a row in that operation's
//!   section (from its heading to the next heading), in a table whose first column is the
//!   status;
//! - every setting of src/config.rs has a row in §3 with its flag and its default, and
//!   every command of src/cli.rs appears in §3 with its flags.
//!
//! Each failure names what is missing and where, so the fix is to write it.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use clap::CommandFactory;
use serde_json::Value;

use crate::helpers::*;

/// Route headings of docs/API.md that are deliberately not operations of the OpenAPI
/// document. Keep it short; each with the reason.
const NOT_IN_OPENAPI: &[(&str, &str)] = &[
    // Served only on its own listener (PORTCULLIS_METRICS_BIND), never on the public one
    // that the document describes; on the public listener /metrics is a 404.
    ("GET", "/metrics"),
];

/// The four parts that source comments cite as "API.md §1" to "§4".
const PARTS: [&str; 4] = [
    "## 1. Tutorial-compatible routes",
    "## 2. Portcullis' own routes",
    "## 3. Command line and configuration",
    "## 4. Running the tutorial's own Angular clients",
];

const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE",
];

type Route = (String, String);

fn label((method, path): &Route) -> String {
    format!("`{method} {path}`")
}

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A heading of the reference: its line (1-based), level, text, and the lines up to the
/// next heading of any level. Lines inside ``` fences are never headings.
struct Heading {
    line: usize,
    level: usize,
    text: String,
    body: Vec<String>,
}

fn headings(doc: &str) -> Vec<Heading> {
    let mut found: Vec<Heading> = Vec::new();
    let mut in_fence = false;
    for (n, line) in doc.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        let level = line.chars().take_while(|c| *c == '#').count();
        let is_heading = !in_fence && level > 0 && line[level..].starts_with(' ');
        if is_heading {
            found.push(Heading {
                line: n + 1,
                level,
                text: line[level..].trim().to_string(),
                body: Vec::new(),
            });
        } else if let Some(current) = found.last_mut() {
            current.body.push(line.to_string());
        }
    }
    found
}

/// The route a heading names, if it names one: "`GET /health/live`". A heading that looks
/// like a route but is not written exactly so is an error, not silently skipped.
fn heading_route(heading: &Heading) -> Result<Option<Route>, String> {
    let Some(inner) = heading
        .text
        .strip_prefix('`')
        .and_then(|t| t.strip_suffix('`'))
    else {
        return Ok(None);
    };
    let Some((method, path)) = inner.split_once(' ') else {
        return Ok(None);
    };
    if !METHODS.contains(&method.to_uppercase().as_str()) {
        return Ok(None);
    }
    let wanted = format!("### `{} {}`", method.to_uppercase(), path.trim());
    let well_formed = heading.level == 3
        && METHODS.contains(&method)
        && path.starts_with('/')
        && !path.contains(char::is_whitespace);
    if well_formed {
        Ok(Some((method.to_string(), path.to_string())))
    } else {
        Err(format!(
            "docs/API.md line {}: \"{} {}\" looks like a route heading; write it as {wanted} \
             (level 3, the method in upper case, one path exactly as in the OpenAPI document)",
            heading.line,
            "#".repeat(heading.level),
            heading.text
        ))
    }
}

/// The statuses in a section's tables: the first cell of each table row, when a number.
fn status_rows(body: &[String]) -> BTreeSet<String> {
    body.iter()
        .filter_map(|line| line.trim().strip_prefix('|'))
        .filter_map(|row| row.split('|').next())
        .map(str::trim)
        .filter(|cell| !cell.is_empty() && cell.chars().all(|c| c.is_ascii_digit()))
        .map(String::from)
        .collect()
}

/// Every operation of the OpenAPI document, with the statuses it lists.
fn operations(openapi: &Value) -> BTreeMap<Route, BTreeSet<String>> {
    let mut found = BTreeMap::new();
    let paths = openapi["paths"]
        .as_object()
        .expect("the OpenAPI document has paths");
    for (path, item) in paths {
        let item = item.as_object().expect("a path item is an object");
        for (method, operation) in item {
            let method = method.to_uppercase();
            if !METHODS.contains(&method.as_str()) {
                continue; // "parameters", "summary" and the like
            }
            let statuses = operation["responses"]
                .as_object()
                .map(|r| r.keys().cloned().collect())
                .unwrap_or_default();
            found.insert((method, path.clone()), statuses);
        }
    }
    found
}

/// The text of one part, from its heading line to the next part's heading.
fn part<'a>(doc: &'a str, heading: &str) -> Option<&'a str> {
    let start = doc.find(&format!("\n{heading}\n"))? + 1;
    let rest = &doc[start..];
    let end = rest[1..].find("\n## ").map_or(rest.len(), |i| i + 1);
    Some(&rest[..end])
}

/// The environment variables src/config.rs declares, read from its text: each
/// `env = "NAME"` of a clap attribute.
fn env_vars_in_config_source() -> BTreeSet<String> {
    let source = read("src/config.rs");
    let mut names = BTreeSet::new();
    let mut rest = source.as_str();
    while let Some(at) = rest.find("env = \"") {
        rest = &rest[at + "env = \"".len()..];
        let end = rest.find('"').expect("a closing quote");
        names.insert(rest[..end].to_string());
        rest = &rest[end..];
    }
    names
}

/// The table row of §3 whose first cell is `` `name` ``.
fn row_for<'a>(section: &'a str, name: &str) -> Option<&'a str> {
    let first_cell = format!("| `{name}` |");
    section
        .lines()
        .find(|line| line.trim_start().starts_with(&first_cell))
}

/// Every leaf command, as typed ("portcullis user set-roles"), with its own flags.
fn leaf_commands(command: &clap::Command, prefix: &str, out: &mut Vec<(String, Vec<String>)>) {
    let name = format!("{prefix} {}", command.get_name());
    let name = name.trim().to_string();
    let subcommands: Vec<_> = command.get_subcommands().collect();
    if subcommands.is_empty() {
        let flags = command
            .get_arguments()
            .filter(|a| !a.is_global_set())
            .filter_map(|a| a.get_long())
            .filter(|long| !matches!(*long, "help" | "version"))
            .map(|long| format!("--{long}"))
            .collect();
        out.push((name, flags));
    } else {
        for sub in subcommands {
            leaf_commands(sub, &name, out);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_reference_documents_every_operation_status_setting_and_command() {
    let app = TestApp::spawn(DbKind::Sqlite).await;
    let response = app.get("/api/openapi.json").await;
    assert_eq!(response.status(), 200, "GET /api/openapi.json");
    let openapi: Value = response.json().await.expect("the OpenAPI document is JSON");
    app.stop().await;

    let doc = read("docs/API.md");
    let operations = operations(&openapi);
    assert!(
        operations.len() >= 20,
        "only {} operations in the OpenAPI document: {:?}",
        operations.len(),
        operations.keys().collect::<Vec<_>>()
    );
    let mut problems: Vec<String> = Vec::new();

    for part_heading in PARTS {
        if !doc.lines().any(|line| line == part_heading) {
            problems.push(format!(
                "docs/API.md has no heading `{part_heading}` (source comments cite it by number)"
            ));
        }
    }

    // Route headings and their sections.
    let all_headings = headings(&doc);
    let mut sections: BTreeMap<Route, Vec<&Heading>> = BTreeMap::new();
    for heading in &all_headings {
        match heading_route(heading) {
            Ok(Some(route)) => sections.entry(route).or_default().push(heading),
            Ok(None) => {}
            Err(problem) => problems.push(problem),
        }
    }
    let allowed: BTreeSet<Route> = NOT_IN_OPENAPI
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();

    // (a) Every operation has exactly one heading.
    for route in operations.keys() {
        match sections.get(route).map_or(0, Vec::len) {
            1 => {}
            0 => problems.push(format!(
                "docs/API.md has no section for {}, an operation of the OpenAPI document: add \
                 a heading ### {} with its body, a status table and notes",
                label(route),
                label(route)
            )),
            n => problems.push(format!(
                "docs/API.md has {n} headings ### {} (lines {:?}); keep exactly one",
                label(route),
                sections[route].iter().map(|h| h.line).collect::<Vec<_>>()
            )),
        }
    }

    // (b) Every route heading is an operation, or deliberately not one.
    for (route, found) in &sections {
        if operations.contains_key(route) || allowed.contains(route) {
            continue;
        }
        problems.push(format!(
            "docs/API.md line {} documents {}, which is not an operation of the OpenAPI \
             document: fix its method or path (paths as the document writes them, e.g. \
             `/api/admin/users/{{id}}`), remove it, or, if it is deliberately not in the \
             document, add it to NOT_IN_OPENAPI in tests/api/api_reference.rs with the reason",
            found[0].line,
            label(route)
        ));
    }
    for route in &allowed {
        if operations.contains_key(route) {
            problems.push(format!(
                "{} is in NOT_IN_OPENAPI but the OpenAPI document has it now: remove it from \
                 that list",
                label(route)
            ));
        }
        if !sections.contains_key(route) {
            problems.push(format!(
                "{} is in NOT_IN_OPENAPI but docs/API.md has no heading ### {} for it",
                label(route),
                label(route)
            ));
        }
    }

    // (c) Every status the document lists has a row in the operation's section.
    for (route, statuses) in &operations {
        let Some(found) = sections.get(route) else {
            continue; // reported above
        };
        let documented: BTreeSet<String> =
            found.iter().flat_map(|h| status_rows(&h.body)).collect();
        for status in statuses {
            if !documented.contains(status) {
                problems.push(format!(
                    "docs/API.md, section ### {} (line {}): the OpenAPI document lists status \
                     {status}, but the section has no table row `| {status} | … |` for it",
                    label(route),
                    found[0].line
                ));
            }
        }
    }

    // (d) Every setting has a row in §3, with its flag and default.
    // Without its heading (reported above) §3 cannot be checked line by line.
    let Some(settings_part) = part(&doc, PARTS[2]) else {
        panic!(
            "docs/API.md has drifted from the code:\n- {}",
            problems.join("\n- ")
        );
    };
    let from_source = env_vars_in_config_source();
    assert!(
        from_source.len() >= 15,
        "found only {from_source:?} as `env = \"…\"` in src/config.rs: the way settings are \
         declared changed; update env_vars_in_config_source in tests/api/api_reference.rs"
    );
    let cli = portcullis::cli::Cli::command();
    let declared: BTreeMap<String, &clap::Arg> = cli
        .get_arguments()
        .filter_map(|arg| Some((arg.get_env()?.to_str()?.to_string(), arg)))
        .collect();
    let every_var: BTreeSet<&String> = from_source.iter().chain(declared.keys()).collect();
    for var in every_var {
        let Some(row) = row_for(settings_part, var) else {
            problems.push(format!(
                "§3 of docs/API.md has no row for the setting `{var}` (declared in \
                 src/config.rs): add `| `{var}` | `--flag` | default | meaning |` to its \
                 settings table"
            ));
            continue;
        };
        let Some(arg) = declared.get(var) else {
            continue;
        };
        if let Some(long) = arg.get_long() {
            if !row.contains(&format!("`--{long}`")) {
                problems.push(format!(
                    "§3 of docs/API.md: the row of `{var}` does not name its flag `--{long}`"
                ));
            }
        }
        let defaults: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        let (wanted, ok) = match defaults.as_slice() {
            [] => ("unset", row.contains("unset")),
            [empty] if empty.is_empty() => ("empty", row.contains("empty")),
            [value] => (value.as_str(), row.contains(&format!("`{value}`"))),
            _ => ("every default", defaults.iter().all(|v| row.contains(v))),
        };
        if !ok {
            problems.push(format!(
                "§3 of docs/API.md: the row of `{var}` does not give its default {wanted:?} \
                 (defaults in the code: {defaults:?}); row: {row}"
            ));
        }
    }

    // (d, continued) Every command appears in §3 with its flags.
    let mut commands = Vec::new();
    leaf_commands(&cli, "", &mut commands);
    assert!(
        commands.len() >= 6,
        "only {commands:?} found as commands of the binary"
    );
    for (command, flags) in &commands {
        let rows: Vec<&str> = settings_part
            .lines()
            .filter(|line| {
                line.contains(&format!("`{command} ")) || line.contains(&format!("`{command}`"))
            })
            .collect();
        if rows.is_empty() {
            problems.push(format!(
                "§3 of docs/API.md does not document the command `{command}`: add a row \
                 `| `{command} …` | what it does |` to its command table"
            ));
            continue;
        }
        for flag in flags {
            if !rows.iter().any(|row| row.contains(flag.as_str())) {
                problems.push(format!(
                    "§3 of docs/API.md: the command `{command}` has the flag `{flag}`, which \
                     its row does not mention"
                ));
            }
        }
    }

    assert!(
        problems.is_empty(),
        "docs/API.md has drifted from the code ({} problems):\n- {}",
        problems.len(),
        problems.join("\n- ")
    );
}
