//! The user's clock on the message sent to a model: "when I sent this",
//! after their words. It is not in the system prompt, which then stays the
//! same for every turn and minute (a prefix providers and local servers
//! cache). `mock-openai` reads it back to answer as a model would.

use chrono::{DateTime, FixedOffset, NaiveDateTime};

const OPEN: &str = "\n\n(Sent ";

/// `content`, then when it was sent on the user's clock (`local`) in `zone`.
pub fn stamp(content: &str, local: DateTime<FixedOffset>, zone: &str) -> String {
    format!(
        "{content}{OPEN}{weekday}, {date}, {time} in my time zone, {zone} (UTC{offset}).)",
        weekday = local.format("%A"),
        date = local.format("%Y-%m-%d"),
        time = local.format("%H:%M"),
        offset = local.format("%:z"),
    )
}

/// The words and the local date and time of a [`stamp`]ed message; None
/// for a message without one.
pub fn read_stamp(text: &str) -> Option<(&str, NaiveDateTime)> {
    let at = text.rfind(OPEN)?;
    let rest = &text[at + OPEN.len()..];
    // "Monday, 2026-03-30, 00:30 in my time zone, ..."
    let (_weekday, rest) = rest.split_once(", ")?;
    let when = rest.get(..17)?;
    let local = NaiveDateTime::parse_from_str(when, "%Y-%m-%d, %H:%M").ok()?;
    Some((&text[..at], local))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_reads_back_as_the_words_and_the_local_time() {
        let local = DateTime::parse_from_rfc3339("2026-03-30T00:30:00+02:00").unwrap();
        let text = stamp("add call mom tomorrow", local, "Europe/Berlin");
        assert_eq!(
            text,
            "add call mom tomorrow\n\n(Sent Monday, 2026-03-30, 00:30 in my time zone, \
             Europe/Berlin (UTC+02:00).)"
        );
        let (words, at) = read_stamp(&text).unwrap();
        assert_eq!(words, "add call mom tomorrow");
        assert_eq!(at, local.naive_local());
    }

    #[test]
    fn a_message_without_a_stamp_has_none() {
        assert_eq!(read_stamp("add call mom tomorrow"), None);
        assert_eq!(read_stamp("odd\n\n(Sent whenever)"), None);
    }
}
