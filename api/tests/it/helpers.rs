//! Shared test support lives in the `testkit` crate; binary helpers here.

use std::process::Command;

pub use testkit::*;

/// Runs the real `todo-api` binary with only the given variables, in an
/// empty directory so no developer `.env` leaks in.
pub fn todo_api(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_todo-api"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.current_dir(std::env::temp_dir());
    cmd.output().expect("run todo-api")
}
