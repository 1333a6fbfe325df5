//! Release binaries embed `web/dist/browser` (src/http/web_app.rs), so cargo must build
//! them again whenever the web app is built again, in whichever order a user runs the
//! README's commands: a release binary built before the app existed would otherwise keep
//! answering "not built" after `npm run build`. Debug builds read the folder from disk
//! and need nothing.
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // rust-embed embeds where debug assertions are off, and reads from disk elsewhere.
    if std::env::var_os("CARGO_CFG_DEBUG_ASSERTIONS").is_some() {
        return;
    }
    let dist = Path::new("web/dist/browser");
    if dist.is_dir() {
        // A directory is watched with everything in it.
        println!("cargo:rerun-if-changed=web/dist/browser");
    } else {
        // Not built yet. A path that does not exist would make cargo rebuild every time,
        // so watch the folder the app will appear in: its first build is a change there.
        println!("cargo:rerun-if-changed=web");
    }
}
