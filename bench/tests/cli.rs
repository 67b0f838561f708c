//! Every benchmark explains itself and refuses what it does not know,
//! before it starts anything (no stack, database or broker is touched here).

use std::process::{Command, Output};

const BENCHES: [(&str, &str); 6] = [
    ("bench-tasks", env!("CARGO_BIN_EXE_bench-tasks")),
    ("bench-chat", env!("CARGO_BIN_EXE_bench-chat")),
    ("bench-sse", env!("CARGO_BIN_EXE_bench-sse")),
    ("bench-mcp", env!("CARGO_BIN_EXE_bench-mcp")),
    ("bench-load", env!("CARGO_BIN_EXE_bench-load")),
    ("bench-reminders", env!("CARGO_BIN_EXE_bench-reminders")),
];

fn run(bin: &str, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .output()
        .expect("the binary runs")
}

#[test]
fn every_bench_answers_help_and_version() {
    for (name, bin) in BENCHES {
        let help = run(bin, &["--help"]);
        assert!(help.status.success(), "{name} --help");
        let text = String::from_utf8_lossy(&help.stdout);
        assert!(text.contains(&format!("Usage: {name}")), "{name}:\n{text}");
        if ["bench-chat", "bench-sse", "bench-load", "bench-reminders"].contains(&name) {
            // They start their own stack: what they read from the environment.
            for var in ["BENCH_DATABASE_URL", "BENCH_LOG_LEVEL", "BENCH_KEEP_DB"] {
                assert!(text.contains(var), "{name} --help shows {var}:\n{text}");
            }
        }
        let version = run(bin, &["--version"]);
        assert_eq!(
            String::from_utf8_lossy(&version.stdout).trim(),
            format!("{name} {}", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn unknown_flags_and_bad_values_exit_2_with_a_message() {
    for (name, bin) in BENCHES {
        let out = run(bin, &["--no-such-flag"]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("--no-such-flag"),
            "{name} names the flag: {err}"
        );
    }
    for args in [
        &["--mock-rpm", "fast"][..],
        &["--worker-env", "NO_EQUALS_SIGN"],
        &["--rate", "x"],
        &["--restart-broker-at", "20,x"],
        &["--restart-broker-at", "50,20"],
    ] {
        let out = run(BENCHES[4].1, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(args[1]), "{args:?} names the value: {err}");
    }
}

#[test]
fn bench_load_refuses_broker_stops_that_overlap() {
    // A quorum queue needs two nodes of three: the first node must be back
    // before the second stop begins.
    let out = run(
        BENCHES[4].1,
        &["--restart-broker-at", "20,30", "--broker-down", "15"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the stop at 30 s begins before"), "{err}");
}
