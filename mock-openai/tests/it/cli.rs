//! The binary as a test harness or a developer starts it.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mock-openai");

#[test]
fn help_version_and_unknown_flags() {
    let help = Command::new(BIN).arg("--help").output().unwrap();
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for needle in [
        "[env: MOCK_OPENAI_PORT=]",
        "[env: MOCK_OPENAI_RPM=]",
        "[default: 0]",
    ] {
        assert!(text.contains(needle), "--help shows `{needle}`:\n{text}");
    }
    let version = Command::new(BIN).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("mock-openai {}", env!("CARGO_PKG_VERSION"))
    );
    let wrong = Command::new(BIN).arg("--latency").output().unwrap();
    assert_eq!(wrong.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("--latency"));
}
