//! Publishes at build time the figures the running system cannot measure itself: the latest
//! `scripts/waf-eval --publish` (evidence/waf-eval.json) and the latest clean
//! `scripts/audit --publish` (evidence/advisory-audit.json). A missing file is compiled in as
//! absent, and the statement then shows that evidence as missing.

use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let out = std::env::var("OUT_DIR").unwrap_or_default();
    let evidence = Path::new(&manifest).join("../../evidence");
    println!("cargo::rerun-if-changed={}", evidence.display());
    let mut code = String::new();
    for (name, file) in [
        ("WAF_EVAL", "waf-eval.json"),
        ("ADVISORY_AUDIT", "advisory-audit.json"),
    ] {
        let path = evidence.join(file);
        println!("cargo::rerun-if-changed={}", path.display());
        match std::fs::read_to_string(&path) {
            Ok(text) => code.push_str(&format!(
                "pub const {name}: Option<&str> = Some({text:?});\n"
            )),
            Err(_) => code.push_str(&format!("pub const {name}: Option<&str> = None;\n")),
        }
    }
    if let Err(e) = std::fs::write(Path::new(&out).join("published.rs"), code) {
        println!("cargo::error=writing published.rs: {e}");
    }
}
