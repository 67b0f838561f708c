//! Operations commands' logic, kept out of `main.rs` so tests call it
//! directly: `todo-api healthcheck` (the container healthcheck),
//! `todo-api preflight` (before a deploy) and `todo-api smoke` (after one).
//! `main.rs` only parses the arguments and prints.

pub mod healthcheck;
pub mod preflight;
pub mod smoke;

/// One line of a preflight or smoke report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
        }
    }
}

/// What was checked, how it went, why, and what to do about it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    /// A stable id (`secrets`, `database.reachable`, ...), for `--json` readers.
    pub id: &'static str,
    pub status: Status,
    /// What was found, in plain words.
    pub reason: String,
    /// What to do when it is not a pass (empty otherwise).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub fix: String,
}

impl Check {
    pub fn pass(id: &'static str, reason: impl Into<String>) -> Self {
        Self {
            id,
            status: Status::Pass,
            reason: reason.into(),
            fix: String::new(),
        }
    }
    pub fn warn(id: &'static str, reason: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            id,
            status: Status::Warn,
            reason: reason.into(),
            fix: fix.into(),
        }
    }
    pub fn fail(id: &'static str, reason: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            id,
            status: Status::Fail,
            reason: reason.into(),
            fix: fix.into(),
        }
    }
}

/// A list of checks, printed one per line or as JSON.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    pub fn push(&mut self, check: Check) {
        self.checks.push(check);
    }

    /// True when no check failed (warnings do not fail a run).
    pub fn passed(&self) -> bool {
        !self.checks.iter().any(|c| c.status == Status::Fail)
    }

    pub fn get(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// `PASS  id  reason` and, below a warning or failure, `      fix: ...`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for c in &self.checks {
            out.push_str(&format!(
                "{:<4}  {:<22}  {}\n",
                c.status.as_str().to_uppercase(),
                c.id,
                c.reason
            ));
            if !c.fix.is_empty() {
                out.push_str(&format!("      {:<22}  fix: {}\n", "", c.fix));
            }
        }
        let count = |s: Status| self.checks.iter().filter(|c| c.status == s).count();
        out.push_str(&format!(
            "{} passed, {} warnings, {} failed\n",
            count(Status::Pass),
            count(Status::Warn),
            count(Status::Fail)
        ));
        out
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "passed": self.passed(), "checks": self.checks })
    }

    /// The process exit status: 0 when nothing failed, 1 otherwise.
    pub fn exit_code(&self) -> std::process::ExitCode {
        if self.passed() {
            std::process::ExitCode::SUCCESS
        } else {
            std::process::ExitCode::FAILURE
        }
    }
}
