//! The text rules of the domain types as JSON Schema, for the API's OpenAPI
//! document. A client (or a fuzzer) reading the document must be able to
//! tell exactly which strings the parses accept, so each rule becomes one
//! ECMA-262 pattern rather than a `maxLength` that counts what `trim` drops.

use utoipa::openapi::schema::{
    AnyOfBuilder, ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{RefOr, Schema};

use super::{Password, TaskDescription, TaskTags, TaskTitle};

/// What `str::trim` removes (Unicode White_Space), as a class body.
const WS: &str = r"\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
/// Control characters (`char::is_control`, Unicode Cc).
const CC: &str = r"\x00-\x1F\x7F-\x9F";
/// Control characters other than tab, newline and carriage return.
const CC_MULTILINE: &str = r"\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F";

/// Text that `text::bounded(field, raw, min, max, multiline)` accepts:
/// after trimming, `min..=max` characters (`min` is 0 or 1) without control
/// characters (newlines and tabs allowed inside when `multiline`).
pub fn text_pattern(min: usize, max: usize, multiline: bool) -> String {
    let edge = format!("[^{WS}{CC}]");
    let inner = if multiline {
        format!("[^{CC_MULTILINE}]")
    } else {
        format!("[^{CC}]")
    };
    let body = format!("{edge}(?:{inner}{{0,{}}}{edge})?", max - 2);
    let body = if min == 0 {
        format!("(?:{body})?")
    } else {
        body
    };
    format!("^[{WS}]*{body}[{WS}]*$")
}

/// One tag as `TaskTags::parse_one` accepts it: no spaces or commas inside.
pub fn tag_pattern() -> String {
    format!("^[{WS}]*[^{WS}{CC},]{{1,{}}}[{WS}]*$", TaskTags::MAX_LEN)
}

/// A query parameter the list routes read as "not given" when it is empty
/// or blank: `schema`, or nothing but white space.
pub fn or_blank(schema: impl Into<RefOr<Schema>>) -> Schema {
    AnyOfBuilder::new()
        .item(schema)
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(format!("^[{WS}]*$"))),
        )
        .into()
}

/// An enumeration as a query parameter: one of `values`, or blank.
pub fn enum_or_blank(values: &[&str]) -> Schema {
    or_blank(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(values.iter().copied())),
    )
}

/// A whole number `min..=max` as a query parameter, or blank.
pub fn integer_or_blank(min: i64, max: i64, default: i64) -> Schema {
    or_blank(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(min))
            .maximum(Some(max))
            .default(Some(default.into())),
    )
}

/// An RFC 3339 timestamp as a query parameter, or blank.
pub fn timestamp_or_blank() -> Schema {
    or_blank(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
    )
}

/// A `YYYY-MM-DD` date as a query parameter, or blank.
pub fn date_or_blank() -> Schema {
    or_blank(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))),
    )
}

/// `ty`, or `[ty, "null"]` when `nullable`.
pub fn maybe_null(ty: Type, nullable: bool) -> SchemaType {
    if nullable {
        SchemaType::from_iter([ty, Type::Null])
    } else {
        SchemaType::new(ty)
    }
}

fn text(pattern: String, description: &str, nullable: bool) -> ObjectBuilder {
    let ty = maybe_null(Type::String, nullable);
    ObjectBuilder::new()
        .schema_type(ty)
        .pattern(Some(pattern))
        .description(Some(description))
}

pub fn title() -> RefOr<Schema> {
    let desc = format!(
        "1 to {} characters once leading and trailing white space is trimmed; one line, no control characters.",
        TaskTitle::MAX
    );
    text(text_pattern(1, TaskTitle::MAX, false), &desc, false)
        .examples(["Call mom"])
        .into()
}

fn description_text(nullable: bool) -> RefOr<Schema> {
    let desc = format!(
        "At most {} characters once trimmed; may span lines. {}",
        TaskDescription::MAX,
        if nullable {
            "`null` or empty clears it."
        } else {
            "Empty means none."
        }
    );
    text(text_pattern(0, TaskDescription::MAX, true), &desc, nullable).into()
}

pub fn description() -> RefOr<Schema> {
    description_text(false)
}

pub fn description_nullable() -> RefOr<Schema> {
    description_text(true)
}

fn tags_of(nullable: bool) -> RefOr<Schema> {
    let tag = text(
        tag_pattern(),
        &format!(
            "1 to {} characters, no spaces or commas; stored lower-cased.",
            TaskTags::MAX_LEN
        ),
        false,
    );
    let ty = maybe_null(Type::Array, nullable);
    let desc = format!(
        "At most {} tags; repeats (compared lower-cased) are dropped.{}",
        TaskTags::MAX_TAGS,
        if nullable { " `null` clears them." } else { "" }
    );
    ArrayBuilder::new()
        .schema_type(ty)
        .items(tag)
        .max_items(Some(TaskTags::MAX_TAGS))
        .description(Some(desc))
        .examples([serde_json::json!(["family"])])
        .into()
}

pub fn tags() -> RefOr<Schema> {
    tags_of(false)
}

pub fn tags_nullable() -> RefOr<Schema> {
    tags_of(true)
}

/// An RFC 3339 timestamp, or a wall time without an offset. The pattern
/// admits only days 01-28, so every string it describes is one we take.
const DUE_AT_PATTERN: &str = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]((\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?)?$";

pub fn due_at_nullable() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(maybe_null(Type::String, true))
        .pattern(Some(DUE_AT_PATTERN))
        .description(Some(
            "When it is due, at a time of day: an RFC 3339 timestamp (`2026-12-24T17:00:00Z`), \
             or a wall time in the user's time zone (`2026-12-24T18:00`). `null` clears the \
             due date unless `due_date` is sent.",
        ))
        .examples(["2026-12-24T18:00"])
        .into()
}

pub fn due_date_nullable() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(maybe_null(Type::String, true))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .description(Some(
            "The day it is due, all day (`YYYY-MM-DD`, the user's day). With `due_at` it must \
             be that time's day. `null` clears the due date unless `due_at` is sent.",
        ))
        .examples(["2026-12-24"])
        .into()
}

pub fn password() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(Password::MIN))
        .max_length(Some(Password::MAX))
        .description(Some(format!(
            "{} to {} characters.",
            Password::MIN,
            Password::MAX
        )))
        .examples(["correct horse battery"])
        .into()
}

pub fn display_name() -> RefOr<Schema> {
    text(
        text_pattern(0, 100, false),
        "At most 100 characters once trimmed, one line; empty means none.",
        true,
    )
    .examples(["Ada"])
    .into()
}

#[cfg(test)]
mod tests {
    use regex::Regex;

    use super::super::text::bounded;
    use super::*;

    /// Strings at the edges of every rule: white space of each kind around
    /// and inside, control characters, lengths at and past the bounds.
    fn samples() -> Vec<String> {
        let mut out: Vec<String> = [
            "",
            " ",
            "a",
            " a ",
            "\ta\n",
            "a b",
            "a\tb",
            "a\nb",
            "a\rb",
            "\u{85}a",
            "a\u{85}b",
            "\u{a0}a\u{3000}",
            "a\u{2003}b",
            "\u{feff}a",
            "a\u{7f}",
            "a\u{9f}b",
            "\u{0}",
            "a,b",
            "\u{1680}",
            "\u{200b}x",
            "é",
            "🥛",
            "\u{b}a\u{c}",
            "\r\n",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for n in [4, 5, 6, 32, 33] {
            for fill in ["x", "🥛", " "] {
                out.push(fill.repeat(n));
                out.push(format!(" {} ", "y".repeat(n)));
                out.push(format!("y{}y", fill.repeat(n - 2)));
            }
        }
        out
    }

    #[test]
    fn text_patterns_accept_exactly_what_the_parse_accepts() {
        for (min, max, multiline) in [(1, 5, false), (0, 5, false), (1, 6, true), (0, 5, true)] {
            let re = Regex::new(&text_pattern(min, max, multiline)).unwrap();
            for s in samples() {
                assert_eq!(
                    re.is_match(&s),
                    bounded("f", &s, min, max, multiline).is_ok(),
                    "{s:?} with min {min}, max {max}, multiline {multiline}"
                );
            }
        }
    }

    #[test]
    fn the_tag_pattern_accepts_exactly_what_the_parse_accepts() {
        let re = Regex::new(&tag_pattern()).unwrap();
        for s in samples() {
            assert_eq!(re.is_match(&s), TaskTags::parse_one(&s).is_ok(), "{s:?}");
        }
    }

    #[test]
    fn every_due_at_the_pattern_admits_parses() {
        let re = Regex::new(DUE_AT_PATTERN).unwrap();
        for raw in [
            "2026-12-24T18:00",
            "2026-12-24T18:00:59",
            "0000-01-01T00:00:00.123456789Z",
            "9999-12-28T23:59:59+23:59",
            "2026-02-28T07:30:00-05:00",
        ] {
            assert!(re.is_match(raw), "{raw}");
            assert!(
                super::super::DueSpec::parse(None, Some(raw)).is_ok(),
                "{raw}"
            );
        }
        for raw in [
            "2026-12-24",
            "2026-12-24 18:00",
            "2026-13-01T00:00",
            "24/12/2026",
            "2026-12-24T18:00Z",
            "2026-12-24T18:00:00.5",
        ] {
            assert!(!re.is_match(raw), "{raw}");
        }
    }
}
