//! Reads variables and records what it read: the one declaration of each
//! variable (name, section, default, meaning) is the call that reads it, so
//! the docs, `.env.example` and every `--help` are built from the same calls.

use std::collections::HashMap;
use std::fmt::Display;

use super::{Environment, Secret};

/// One variable as declared where it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarDoc {
    pub name: &'static str,
    pub section: &'static str,
    /// The default as people write it; empty when unset by default.
    pub default: String,
    pub meaning: &'static str,
    pub secret: bool,
}

/// Reads variables, collecting every problem instead of stopping at the first.
pub struct Reader {
    vars: HashMap<String, String>,
    pub(super) problems: Vec<String>,
    pub(super) docs: Vec<VarDoc>,
    section: &'static str,
    /// Read before any section: several defaults and rules depend on them.
    pub(super) environment: Environment,
    pub(super) debug: bool,
    /// Weak secrets are accepted only with an explicit development/test ENVIRONMENT.
    pub(super) lenient_secrets: bool,
}

impl Reader {
    pub(super) fn new(vars: HashMap<String, String>) -> Self {
        Self {
            vars,
            problems: Vec::new(),
            docs: Vec::new(),
            section: "general",
            environment: Environment::Development,
            debug: false,
            lenient_secrets: false,
        }
    }

    /// Every variable read from now on belongs to `section`.
    pub fn section(&mut self, section: &'static str) {
        self.section = section;
    }

    pub fn problem(&mut self, problem: impl Into<String>) {
        self.problems.push(problem.into());
    }

    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }

    /// Starts reading `name`; `meaning` is what the docs and `--help` say.
    pub fn var(&mut self, name: &'static str, meaning: &'static str) -> Var<'_> {
        Var {
            r: self,
            name,
            meaning,
            shown: None,
        }
    }

    fn raw(&self, name: &str) -> Option<String> {
        self.vars
            .get(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    /// A variable that is read only to refuse it (removed ones).
    pub fn is_set(&self, name: &str) -> bool {
        self.raw(name).is_some()
    }
}

/// A variable being read: finish with the method for its type.
pub struct Var<'r> {
    r: &'r mut Reader,
    name: &'static str,
    meaning: &'static str,
    shown: Option<&'static str>,
}

impl Var<'_> {
    /// The default as the docs should show it, when it is computed.
    pub fn shown_default(mut self, text: &'static str) -> Self {
        self.shown = Some(text);
        self
    }

    fn record(&mut self, default: String, secret: bool) {
        let default = self.shown.map_or(default, str::to_string);
        self.r.docs.push(VarDoc {
            name: self.name,
            section: self.r.section,
            default,
            meaning: self.meaning,
            secret,
        });
    }

    pub fn optional(mut self) -> Option<String> {
        self.record(String::new(), false);
        self.r.raw(self.name)
    }

    pub fn string(mut self, default: &str) -> String {
        self.record(default.to_string(), false);
        self.r.raw(self.name).unwrap_or_else(|| default.to_string())
    }

    /// Parsed with `parse`; a bad value is a problem named after the variable.
    pub fn parse<T>(self, default: T, parse: impl FnOnce(&str) -> Result<T, String>) -> T
    where
        T: ShowDefault,
    {
        let shown = default.show();
        self.parse_shown(default, shown, parse)
    }

    fn parse_shown<T>(
        mut self,
        default: T,
        shown: String,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> T {
        self.record(shown, false);
        match self.r.raw(self.name) {
            None => default,
            Some(raw) => parse(&raw).unwrap_or_else(|why| {
                self.r.problems.push(format!("{}: {why}", self.name));
                default
            }),
        }
    }

    pub fn bool(self, default: bool) -> bool {
        self.parse_shown(default, default.to_string(), |v| {
            match v.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Ok(true),
                "0" | "false" | "no" | "off" => Ok(false),
                _ => Err("expected true or false".into()),
            }
        })
    }

    pub fn number<T: std::str::FromStr + Display>(self, default: T) -> T {
        let shown = default.to_string();
        self.parse_shown(default, shown, |v| {
            v.parse()
                .map_err(|_| format!("`{v}` is not a valid number"))
        })
    }

    /// A whole number of at least 1.
    pub fn positive<T>(self, default: T) -> T
    where
        T: std::str::FromStr + Display + PartialOrd + From<u8>,
    {
        let shown = default.to_string();
        self.parse_shown(default, shown, |v| {
            v.parse::<T>()
                .ok()
                .filter(|n| *n >= T::from(1))
                .ok_or_else(|| format!("`{v}` is not a whole number of at least 1"))
        })
    }

    /// Optional and, when set, a whole number of at least 1.
    pub fn optional_positive<T>(self) -> Option<T>
    where
        T: std::str::FromStr + PartialOrd + From<u8>,
    {
        self.parse_shown(None, String::new(), |v| {
            v.parse::<T>()
                .ok()
                .filter(|n| *n >= T::from(1))
                .map(Some)
                .ok_or_else(|| format!("`{v}` is not a whole number of at least 1"))
        })
    }

    /// A required secret in staging and production; in development and test
    /// a random one is made per process when unset (tokens then die with the
    /// process, which is fine locally).
    pub fn secret(mut self, required: bool) -> Secret {
        self.shown
            .get_or_insert("random per process in development and test");
        self.record(String::new(), true);
        match self.r.raw(self.name) {
            Some(v) => Secret::new(v),
            None => {
                if required {
                    let name = self.name;
                    self.r
                        .problems
                        .push(format!("{name} is required outside development and test"));
                }
                Secret::new(format!(
                    "{}{}",
                    uuid::Uuid::new_v4().simple(),
                    uuid::Uuid::new_v4().simple()
                ))
            }
        }
    }

    /// An optional value that must never be printed (keys, DSNs).
    pub fn optional_secret(mut self) -> Option<Secret> {
        self.record(String::new(), true);
        self.r.raw(self.name).map(Secret::new)
    }
}

/// How a default reads in the docs.
pub trait ShowDefault {
    fn show(&self) -> String;
}

macro_rules! show_option_by_display {
    ($($t:ty),*) => {$(impl ShowDefault for Option<$t> {
        fn show(&self) -> String { self.as_ref().map(ToString::to_string).unwrap_or_default() }
    })*};
}
show_option_by_display!(String, u16, u32, u64);

macro_rules! show_by_display {
    ($($t:ty),*) => {$(impl ShowDefault for $t {
        fn show(&self) -> String { self.to_string() }
    })*};
}
show_by_display!(String, u16, u32, u64, usize, f64, bool);

impl ShowDefault for Vec<String> {
    fn show(&self) -> String {
        self.join(",")
    }
}

impl ShowDefault for Vec<super::IpNet> {
    fn show(&self) -> String {
        self.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl ShowDefault for std::time::Duration {
    fn show(&self) -> String {
        let s = self.as_secs();
        match s {
            s if s > 0 && s % 86_400 == 0 => format!("{}d", s / 86_400),
            s if s > 0 && s % 3600 == 0 => format!("{}h", s / 3600),
            s if s > 0 && s % 60 == 0 => format!("{}m", s / 60),
            s => format!("{s}s"),
        }
    }
}

impl ShowDefault for Option<std::time::Duration> {
    fn show(&self) -> String {
        self.as_ref().map(ShowDefault::show).unwrap_or_default()
    }
}

impl ShowDefault for super::auth::Algorithm {
    fn show(&self) -> String {
        format!("{self:?}")
    }
}
