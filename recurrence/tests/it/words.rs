//! `words::parse`: English phrases to rules, and our own descriptions back.

use chrono::NaiveTime;
use chrono_tz::Europe::Berlin;
use todo_recurrence::words::{self, StartHint};

use crate::{local, rule};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Hint {
    None,
    Day,
    At(u32, u32),
}

/// (text, canonical rule, every!, hint, the part of the text the phrase covers).
const PHRASES: &[(&str, &str, bool, Hint, &str)] = &[
    ("every day", "FREQ=DAILY", false, Hint::None, "every day"),
    (
        "Water plants daily",
        "FREQ=DAILY",
        false,
        Hint::None,
        "daily",
    ),
    ("every week", "FREQ=WEEKLY", false, Hint::None, "every week"),
    ("weekly review", "FREQ=WEEKLY", false, Hint::None, "weekly"),
    (
        "every weekday",
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        false,
        Hint::Day,
        "every weekday",
    ),
    (
        "every weekend",
        "FREQ=WEEKLY;BYDAY=SA,SU",
        false,
        Hint::Day,
        "every weekend",
    ),
    (
        "every monday",
        "FREQ=WEEKLY;BYDAY=MO",
        false,
        Hint::Day,
        "every monday",
    ),
    (
        "gym every mon and thu",
        "FREQ=WEEKLY;BYDAY=MO,TH",
        false,
        Hint::Day,
        "every mon and thu",
    ),
    (
        "every Monday, Wednesday and Friday",
        "FREQ=WEEKLY;BYDAY=MO,WE,FR",
        false,
        Hint::Day,
        "every Monday, Wednesday and Friday",
    ),
    (
        "every other week",
        "FREQ=WEEKLY;INTERVAL=2",
        false,
        Hint::None,
        "every other week",
    ),
    (
        "every 2 weeks",
        "FREQ=WEEKLY;INTERVAL=2",
        false,
        Hint::None,
        "every 2 weeks",
    ),
    (
        "every second week",
        "FREQ=WEEKLY;INTERVAL=2",
        false,
        Hint::None,
        "every second week",
    ),
    (
        "every other monday",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO",
        false,
        Hint::Day,
        "every other monday",
    ),
    (
        "fortnightly on friday",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR",
        false,
        Hint::Day,
        "fortnightly on friday",
    ),
    (
        "every month",
        "FREQ=MONTHLY",
        false,
        Hint::None,
        "every month",
    ),
    ("monthly", "FREQ=MONTHLY", false, Hint::None, "monthly"),
    (
        "every 3rd friday",
        "FREQ=MONTHLY;BYDAY=3FR",
        false,
        Hint::Day,
        "every 3rd friday",
    ),
    (
        "every last friday",
        "FREQ=MONTHLY;BYDAY=-1FR",
        false,
        Hint::Day,
        "every last friday",
    ),
    (
        "every 2nd to last monday",
        "FREQ=MONTHLY;BYDAY=-2MO",
        false,
        Hint::Day,
        "every 2nd to last monday",
    ),
    (
        "every last day",
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        false,
        Hint::Day,
        "every last day",
    ),
    (
        "every last day of the month",
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        false,
        Hint::Day,
        "every last day of the month",
    ),
    (
        "every 3rd",
        "FREQ=MONTHLY;BYMONTHDAY=3",
        false,
        Hint::Day,
        "every 3rd",
    ),
    (
        "every 15th",
        "FREQ=MONTHLY;BYMONTHDAY=15",
        false,
        Hint::Day,
        "every 15th",
    ),
    (
        "every 1st and 15th of the month",
        "FREQ=MONTHLY;BYMONTHDAY=1,15",
        false,
        Hint::Day,
        "every 1st and 15th of the month",
    ),
    (
        "Pay rent every month on the 1st please",
        "FREQ=MONTHLY;BYMONTHDAY=1",
        false,
        Hint::Day,
        "every month on the 1st",
    ),
    (
        "every month on the 1st and last sunday",
        "FREQ=MONTHLY;BYDAY=1SU,-1SU",
        false,
        Hint::Day,
        "every month on the 1st and last sunday",
    ),
    ("every year", "FREQ=YEARLY", false, Hint::None, "every year"),
    ("yearly", "FREQ=YEARLY", false, Hint::None, "yearly"),
    ("annually", "FREQ=YEARLY", false, Hint::None, "annually"),
    (
        "every 29 february",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        false,
        Hint::Day,
        "every 29 february",
    ),
    (
        "every February 29th",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        false,
        Hint::Day,
        "every February 29th",
    ),
    (
        "every last monday of may",
        "FREQ=YEARLY;BYMONTH=5;BYDAY=-1MO",
        false,
        Hint::Day,
        "every last monday of may",
    ),
    (
        "every 3 days",
        "FREQ=DAILY;INTERVAL=3",
        false,
        Hint::None,
        "every 3 days",
    ),
    (
        "every three weeks",
        "FREQ=WEEKLY;INTERVAL=3",
        false,
        Hint::None,
        "every three weeks",
    ),
    (
        "every 6 months",
        "FREQ=MONTHLY;INTERVAL=6",
        false,
        Hint::None,
        "every 6 months",
    ),
    (
        "every 2 years",
        "FREQ=YEARLY;INTERVAL=2",
        false,
        Hint::None,
        "every 2 years",
    ),
    (
        "clean filter every! 3 days",
        "FREQ=DAILY;INTERVAL=3",
        true,
        Hint::None,
        "every! 3 days",
    ),
    (
        "every! month",
        "FREQ=MONTHLY",
        true,
        Hint::None,
        "every! month",
    ),
    (
        "every day at 9am",
        "FREQ=DAILY;BYHOUR=9;BYMINUTE=0",
        false,
        Hint::At(9, 0),
        "every day at 9am",
    ),
    (
        "every day at 9 pm",
        "FREQ=DAILY;BYHOUR=21;BYMINUTE=0",
        false,
        Hint::At(21, 0),
        "every day at 9 pm",
    ),
    (
        "every day at 17:30",
        "FREQ=DAILY;BYHOUR=17;BYMINUTE=30",
        false,
        Hint::At(17, 30),
        "every day at 17:30",
    ),
    (
        "every day at noon",
        "FREQ=DAILY;BYHOUR=12;BYMINUTE=0",
        false,
        Hint::At(12, 0),
        "every day at noon",
    ),
    (
        "every weekday at 9:00 and 17:00",
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9,17;BYMINUTE=0",
        false,
        Hint::Day,
        "every weekday at 9:00 and 17:00",
    ),
    (
        "every morning",
        "FREQ=DAILY;BYHOUR=9;BYMINUTE=0",
        false,
        Hint::At(9, 0),
        "every morning",
    ),
    (
        "every evening",
        "FREQ=DAILY;BYHOUR=19;BYMINUTE=0",
        false,
        Hint::At(19, 0),
        "every evening",
    ),
    (
        "every monday morning",
        "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0",
        false,
        Hint::Day,
        "every monday morning",
    ),
    (
        "every day in the evening",
        "FREQ=DAILY;BYHOUR=19;BYMINUTE=0",
        false,
        Hint::At(19, 0),
        "every day in the evening",
    ),
    (
        "EVERY Monday AT 9AM",
        "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0",
        false,
        Hint::Day,
        "EVERY Monday AT 9AM",
    ),
    (
        "every monday until 31 march 2027",
        "FREQ=WEEKLY;BYDAY=MO;UNTIL=20270331",
        false,
        Hint::Day,
        "every monday until 31 march 2027",
    ),
    (
        "every monday until 31 march 2027 at 9am",
        "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0;UNTIL=20270331",
        false,
        Hint::Day,
        "every monday until 31 march 2027 at 9am",
    ),
    (
        "every monday until 5pm on 31 march 2027",
        "FREQ=WEEKLY;BYDAY=MO;UNTIL=20270331T170000",
        false,
        Hint::Day,
        "every monday until 5pm on 31 march 2027",
    ),
    (
        "daily until 2027-03-31",
        "FREQ=DAILY;UNTIL=20270331",
        false,
        Hint::None,
        "daily until 2027-03-31",
    ),
    (
        "every day for 5 times",
        "FREQ=DAILY;COUNT=5",
        false,
        Hint::None,
        "every day for 5 times",
    ),
    (
        "every 3 days, 5 times",
        "FREQ=DAILY;INTERVAL=3;COUNT=5",
        false,
        Hint::None,
        "every 3 days, 5 times",
    ),
    (
        "every monday twice",
        "FREQ=WEEKLY;BYDAY=MO;COUNT=2",
        false,
        Hint::Day,
        "every monday twice",
    ),
    (
        "every day in march",
        "FREQ=DAILY;BYMONTH=3",
        false,
        Hint::None,
        "every day in march",
    ),
    // What the phrase does not understand stays in the title.
    (
        "every day at 9 sharp",
        "FREQ=DAILY",
        false,
        Hint::None,
        "every day",
    ),
    (
        "every monday until march",
        "FREQ=WEEKLY;BYDAY=MO",
        false,
        Hint::Day,
        "every monday",
    ),
    (
        "everyone meets every friday",
        "FREQ=WEEKLY;BYDAY=FR",
        false,
        Hint::Day,
        "every friday",
    ),
];

#[test]
fn phrases_become_rules() {
    let mut wrong = Vec::new();
    for &(text, expected, from_completion, hint, covered) in PHRASES {
        let Some(phrase) = words::parse(text) else {
            wrong.push(format!("{text:?}: not understood"));
            continue;
        };
        let hint_found = match phrase.start {
            None => Hint::None,
            Some(StartHint::Day) => Hint::Day,
            Some(StartHint::Time(t)) => {
                Hint::At(chrono::Timelike::hour(&t), chrono::Timelike::minute(&t))
            }
        };
        let got = (
            phrase.rule.to_string(),
            phrase.from_completion,
            hint_found,
            &text[phrase.span.clone()],
        );
        if got != (expected.to_string(), from_completion, hint, covered) {
            wrong.push(format!(
                "{text:?}: {got:?}, expected {:?}",
                (expected, from_completion, hint, covered)
            ));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn text_that_is_not_a_recurrence_is_left_alone() {
    for text in [
        "",
        "everyone",
        "every",
        "Every",
        "evening walk",
        "buy milk",
        "every time I see it",
        "every 3",
        "every now and then",
        "every last",
        "every second",
        "every 45th",
        "every other",
        "every! ",
        "every 0 days",
        "every 1001 days",
        "every 30 february",
        "every 10 june and 11 july",
        "everything is fine",
        "at every turn",
        "every so often",
    ] {
        assert_eq!(words::parse(text), None, "{text:?}");
    }
}

#[test]
fn any_text_is_safe_to_read() {
    for text in [
        "every 😀 day",
        "😀 every day",
        "every day😀",
        "every\u{0}day",
        "every!!! day",
        "ёvery day",
        "every 99999999999999999999 days",
        "every day at 99:99",
        "every day at 12:5",
        "every day until 31 february 2027",
        &"every ".repeat(500),
        &"every monday and ".repeat(100),
    ] {
        let _ = words::parse(text);
    }
    let phrase = words::parse("😀 every day😀").expect("a phrase");
    assert_eq!(phrase.span, 5..14);
}

/// The time hint names the earliest time; a day hint wins over a time.
#[test]
fn hints() {
    let at = |text: &str| words::parse(text).and_then(|p| p.start);
    assert_eq!(
        at("every day at 17:00 and 9:00"),
        Some(StartHint::Time(NaiveTime::from_hms_opt(9, 0, 0).unwrap()))
    );
    assert_eq!(at("every 15th at 9am"), Some(StartHint::Day));
    assert_eq!(at("every 2 weeks"), None);
}

/// (rule, start, the rule words::parse must read back from its description:
/// the same rule, or for rules that take their day from the start, the
/// same days named).
const ROUND_TRIPS: &[(&str, &str, &str)] = &[
    ("FREQ=DAILY", "", ""),
    ("FREQ=DAILY;INTERVAL=2", "", ""),
    ("FREQ=DAILY;INTERVAL=3", "", ""),
    ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "", ""),
    ("FREQ=WEEKLY;BYDAY=SA,SU", "", ""),
    ("FREQ=WEEKLY;BYDAY=MO", "", ""),
    ("FREQ=WEEKLY;BYDAY=MO,WE,FR", "", ""),
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR", "", ""),
    ("FREQ=WEEKLY;INTERVAL=3;BYDAY=TU", "", ""),
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=SU", "", ""),
    ("FREQ=MONTHLY;BYMONTHDAY=7", "", ""),
    ("FREQ=MONTHLY;BYMONTHDAY=2,15", "", ""),
    ("FREQ=MONTHLY;BYMONTHDAY=-1", "", ""),
    ("FREQ=MONTHLY;BYMONTHDAY=1,-1", "", ""),
    ("FREQ=MONTHLY;BYMONTHDAY=-3", "", ""),
    ("FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=15", "", ""),
    ("FREQ=MONTHLY;BYDAY=3FR", "", ""),
    ("FREQ=MONTHLY;BYDAY=-1FR", "", ""),
    ("FREQ=MONTHLY;BYDAY=-2MO", "", ""),
    ("FREQ=MONTHLY;INTERVAL=2;BYDAY=1SU,-1SU", "", ""),
    ("FREQ=MONTHLY;BYDAY=1MO,3FR", "", ""),
    ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "", ""),
    ("FREQ=YEARLY;BYMONTH=6,7;BYMONTHDAY=10", "", ""),
    ("FREQ=YEARLY;INTERVAL=4;BYMONTH=4;BYMONTHDAY=7", "", ""),
    ("FREQ=YEARLY;BYMONTH=4;BYDAY=1SU", "", ""),
    ("FREQ=YEARLY;BYMONTH=5;BYDAY=-1MO", "", ""),
    ("FREQ=YEARLY;BYDAY=20MO", "", ""),
    ("FREQ=DAILY;BYHOUR=9;BYMINUTE=0", "", ""),
    ("FREQ=DAILY;BYHOUR=17;BYMINUTE=30", "", ""),
    (
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9,17;BYMINUTE=0",
        "",
        "",
    ),
    ("FREQ=DAILY;INTERVAL=3;COUNT=5", "", ""),
    ("FREQ=DAILY;COUNT=1", "", ""),
    ("FREQ=WEEKLY;BYDAY=MO;UNTIL=20270331", "", ""),
    ("FREQ=WEEKLY;BYDAY=MO;UNTIL=20270331T170000", "", ""),
    ("FREQ=WEEKLY;BYDAY=MO;UNTIL=20270331T160000Z", "", ""),
    ("FREQ=DAILY;BYMONTH=3", "", ""),
    (
        "FREQ=MONTHLY;BYDAY=3FR;BYHOUR=9;BYMINUTE=0;COUNT=12",
        "",
        "",
    ),
    // The day (or time) from the start, named.
    ("FREQ=WEEKLY", "", "FREQ=WEEKLY;BYDAY=TU"),
    (
        "FREQ=WEEKLY;INTERVAL=2",
        "",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
    ),
    ("FREQ=MONTHLY", "", "FREQ=MONTHLY;BYMONTHDAY=7"),
    (
        "FREQ=MONTHLY",
        "2026-01-31 09:00",
        "FREQ=MONTHLY;BYMONTHDAY=31",
    ),
    (
        "FREQ=YEARLY",
        "2028-02-29 08:00",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
    ),
    (
        "FREQ=YEARLY;BYMONTH=6,7",
        "2026-06-10 09:00",
        "FREQ=YEARLY;BYMONTH=6,7;BYMONTHDAY=10",
    ),
    (
        "FREQ=DAILY;BYHOUR=9",
        "2026-04-07 08:30",
        "FREQ=DAILY;BYHOUR=9;BYMINUTE=30",
    ),
    // Other spellings of the same series.
    ("FREQ=MONTHLY;BYDAY=TU", "", "FREQ=WEEKLY;BYDAY=TU"),
    (
        "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
        "",
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    ),
    (
        "FREQ=YEARLY;BYMONTH=3;BYDAY=TH",
        "",
        "FREQ=WEEKLY;BYMONTH=3;BYDAY=TH",
    ),
];

#[test]
fn our_descriptions_read_back_as_the_same_rule() {
    let mut wrong = Vec::new();
    for &(text, start, expected) in ROUND_TRIPS {
        let start = local(if start.is_empty() {
            "2026-04-07 09:00"
        } else {
            start
        });
        let original = rule(text);
        let expected = if expected.is_empty() {
            original.clone()
        } else {
            rule(expected)
        };
        let described = original.describe(start);
        let Some(phrase) = words::parse(&described) else {
            wrong.push(format!("{text}: {described:?} not understood"));
            continue;
        };
        if phrase.rule != expected || phrase.span != (0..described.len()) {
            wrong.push(format!(
                "{text}: {described:?} read as {} covering {:?}",
                phrase.rule, phrase.span
            ));
            continue;
        }
        // The same series, whichever way it is spelt.
        let series = |r: &todo_recurrence::Rule| -> Vec<_> {
            r.occurrences(start, Berlin).take(60).collect()
        };
        if series(&phrase.rule) != series(&original) {
            wrong.push(format!("{text}: {described:?} gives other occurrences"));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}
