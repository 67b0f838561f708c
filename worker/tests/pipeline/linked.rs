//! What the worker binary is made of: it handles no passwords and no tokens,
//! so it links no password hashing or JWT code (issue 20: crates split by
//! who uses them).

/// Whether `haystack` holds the bytes of `needle`.
fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn the_worker_links_no_password_hashing_or_jwt_code() {
    let binary = std::fs::read(env!("CARGO_BIN_EXE_todo-worker")).expect("the worker binary");
    // Symbols name their crate: a crate the worker does use is seen...
    assert!(contains(&binary, "_ZN5lapin"), "symbols are readable");
    // ...and the API's alone are not there.
    for (name, symbol) in [
        ("argon2", "_ZN6argon2"),
        ("jsonwebtoken", "_ZN12jsonwebtoken"),
    ] {
        assert!(!contains(&binary, symbol), "todo-worker links {name}");
    }
}
