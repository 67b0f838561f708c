//! Quick add's answer (`crate::quick_add` reads it): one task typed in full
//! ("call mom tomorrow at 5pm p1 #family"), read with the grammar of the
//! chat's "add ...", and where in the text each recognised part stands, so
//! the web app can show it as a chip the user may dismiss.

use chrono::{Datelike, NaiveDate};
use serde_json::{Map, Value};

/// What a recognised part of the text sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChipKind {
    Date,
    Time,
    /// A day and a time in one phrase ("tomorrow at 5pm").
    DateTime,
    Recurrence,
    Priority,
    Tag,
    Reminder,
}

impl ChipKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Date => "date",
            Self::Time => "time",
            Self::DateTime => "date_time",
            Self::Recurrence => "recurrence",
            Self::Priority => "priority",
            Self::Tag => "tag",
            Self::Reminder => "reminder",
        }
    }
}

/// A recognised part: `start..end` are byte offsets into the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chip {
    pub kind: ChipKind,
    pub start: usize,
    pub end: usize,
    /// What it means, for people: "Tomorrow 17:00", "Every Monday", "#work".
    pub label: String,
}

/// The task the text describes.
#[derive(Debug, Clone, PartialEq)]
pub struct QuickAdd {
    /// `add_task`'s arguments (the body `POST /tasks` takes): the title and
    /// whatever the chips set.
    pub fields: Map<String, Value>,
    /// The recognised parts, in the order they stand in the text.
    pub chips: Vec<Chip>,
}

impl QuickAdd {
    pub fn title(&self) -> &str {
        self.fields
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

/// "Today", "Tomorrow", "Friday" within the week, else "Fri 11 Dec" (with
/// the year when it is not this one).
pub(crate) fn day_label(day: NaiveDate, today: NaiveDate) -> String {
    match (day - today).num_days() {
        0 => "Today".to_string(),
        1 => "Tomorrow".to_string(),
        -1 => "Yesterday".to_string(),
        2..=6 => day.format("%A").to_string(),
        _ if day.year() == today.year() => day.format("%a %-d %b").to_string(),
        _ => day.format("%a %-d %b %Y").to_string(),
    }
}

/// "30 min", "2 h", "1 day": how long before the due time a reminder is.
pub(crate) fn reminder_label(minutes: i64) -> String {
    if minutes == 0 {
        return "Reminder at due time".to_string();
    }
    let (count, unit) = if minutes % (24 * 60) == 0 {
        (minutes / (24 * 60), "day")
    } else if minutes % 60 == 0 {
        (minutes / 60, "hour")
    } else {
        (minutes, "minute")
    };
    let plural = if count == 1 { "" } else { "s" };
    format!("Reminder {count} {unit}{plural} before")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quick_add;
    use chrono::NaiveDateTime;

    /// Mon 7 Dec 2026, 10:00, as the phrase table.
    fn now() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, 7)
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .expect("a date")
    }

    fn chips(text: &str) -> Vec<(&'static str, String, String)> {
        quick_add(text, now(), &[])
            .chips
            .iter()
            .map(|c| {
                (
                    c.kind.as_str(),
                    text.get(c.start..c.end).unwrap_or("?").to_string(),
                    c.label.clone(),
                )
            })
            .collect()
    }

    fn span(text: &str, part: &str) -> (usize, usize) {
        let start = text.find(part).expect("part of the text");
        (start, start + part.len())
    }

    #[test]
    fn every_part_is_a_chip_over_its_own_words_and_the_title_is_the_rest() {
        let text = "call mom tomorrow at 5pm p1 #family every week, 30 minutes before";
        let read = quick_add(text, now(), &[]);
        assert_eq!(read.title(), "call mom");
        assert_eq!(
            chips(text),
            vec![
                (
                    "date_time",
                    "tomorrow at 5pm".into(),
                    "Tomorrow 17:00".into()
                ),
                ("priority", "p1".into(), "Urgent".into()),
                ("tag", "#family".into(), "#family".into()),
                ("recurrence", "every week".into(), "Every Tuesday".into()),
                (
                    "reminder",
                    "30 minutes before".into(),
                    "Reminder 30 minutes before".into()
                ),
            ]
        );
        assert_eq!(read.fields["due_at"], "2026-12-08T17:00");
        assert_eq!(read.fields["priority"], "urgent");
        assert_eq!(read.fields["tags"], serde_json::json!(["family"]));
        assert_eq!(read.fields["recurrence"]["rrule"], "FREQ=WEEKLY");
        assert_eq!(
            read.fields["reminders"],
            serde_json::json!([{"before_due_minutes": 30}])
        );
    }

    #[test]
    fn a_time_alone_says_which_day_it_lands_on() {
        // 10:00 now: 9am has passed today.
        assert_eq!(
            chips("stretch at 9am"),
            vec![("time", "at 9am".into(), "Tomorrow 09:00".into())]
        );
        assert_eq!(
            chips("stretch 6pm"),
            vec![("time", "6pm".into(), "Today 18:00".into())]
        );
        assert_eq!(
            chips("pay rent fri"),
            vec![("date", "fri".into(), "Friday".into())]
        );
        assert_eq!(
            chips("renew passport jan 27"),
            vec![("date", "jan 27".into(), "Wed 27 Jan 2027".into())]
        );
    }

    #[test]
    fn a_dismissed_chip_stays_in_the_title_and_sets_nothing() {
        let text = "call mom tomorrow at 5pm #family";
        let read = quick_add(text, now(), &[span(text, "tomorrow at 5pm")]);
        assert_eq!(read.title(), "call mom tomorrow at 5pm");
        assert!(!read.fields.contains_key("due_at"));
        assert!(!read.fields.contains_key("due_date"));
        assert_eq!(chips_of(&read, text), vec!["#family"]);
        // A range that touches part of a word keeps the whole word.
        let read = quick_add(text, now(), &[(text.len() - 3, text.len())]);
        assert_eq!(read.title(), "call mom #family");
        assert!(!read.fields.contains_key("tags"));
    }

    fn chips_of<'t>(read: &QuickAdd, text: &'t str) -> Vec<&'t str> {
        read.chips
            .iter()
            .map(|c| text.get(c.start..c.end).unwrap_or("?"))
            .collect()
    }

    #[test]
    fn titles_keep_their_false_dates_and_quoted_words() {
        for text in [
            "read The 5th Wave",
            "buy paprika",
            "move old monitor to attic",
            "ask May about the keys",
            "watch \"Friday Night Lights\"",
        ] {
            let read = quick_add(text, now(), &[]);
            assert_eq!(read.chips, vec![], "{text}");
            assert_eq!(read.title(), text, "{text}");
        }
    }

    #[test]
    fn a_second_date_is_no_chip_and_text_beyond_any_byte_range_is_harmless() {
        assert_eq!(
            chips("call mom tomorrow friday")
                .iter()
                .map(|c| c.0)
                .collect::<Vec<_>>(),
            vec!["date"],
        );
        // Ranges past the end, reversed or inside a multibyte letter.
        let text = "café tomorrow";
        let read = quick_add(text, now(), &[(100, 200), (9, 2), (4, 5)]);
        assert_eq!(read.title(), "café");
        let read = quick_add("", now(), &[]);
        assert_eq!(read.title(), "");
        assert!(read.chips.is_empty());
    }

    #[test]
    fn labels_read_like_a_calendar() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).expect("a date");
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 12, d).expect("a date");
        assert_eq!(day_label(day(7), today), "Today");
        assert_eq!(day_label(day(8), today), "Tomorrow");
        assert_eq!(day_label(day(13), today), "Sunday");
        assert_eq!(day_label(day(14), today), "Mon 14 Dec");
        assert_eq!(reminder_label(0), "Reminder at due time");
        assert_eq!(reminder_label(60), "Reminder 1 hour before");
        assert_eq!(reminder_label(2 * 24 * 60), "Reminder 2 days before");
    }
}
