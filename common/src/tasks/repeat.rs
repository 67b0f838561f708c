//! Where a recurring task is due: placing a rule on a task, and moving the
//! task to its next occurrence when one is done or skipped. Pure: the
//! caller passes the user's zone and the one clock reading of its work.

use chrono::{DateTime, NaiveDateTime, NaiveTime, Utc};
use todo_recurrence::Occurrence;

use crate::domain::{Anchor, Due, Recurrence, RecurrenceSpec, TimeZone};
use crate::error::{Error, Result};

/// A series and the task's due date in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Placed {
    pub recurrence: Recurrence,
    pub due: Due,
}

fn due_of(occurrence: Occurrence, timed: bool) -> Due {
    Due {
        date: occurrence.local.date(),
        at: timed.then_some(occurrence.at),
    }
}

/// A due date on the user's wall clock (midnight for all day).
fn wall(due: Due, zone: TimeZone) -> NaiveDateTime {
    match due.at {
        Some(at) => zone.local(at).naive_local(),
        None => due.date.and_time(NaiveTime::MIN),
    }
}

/// The series `spec` on a task due `due`: it starts at the first occurrence
/// on or after the due date, or, for a task not yet due, from today (for a
/// rule with a time of day, the first one still to come). The task is due
/// at a time when it was, or when the rule says one.
pub(super) fn place(
    spec: RecurrenceSpec,
    due: Option<Due>,
    zone: TimeZone,
    now: DateTime<Utc>,
) -> Result<Placed> {
    let timed = spec.rule.has_time_of_day() || due.is_some_and(|d| d.at.is_some());
    let first = match due {
        Some(due) => spec.rule.occurrences(wall(due, zone), zone.tz()).next(),
        None => {
            let today = zone.local(now).date_naive().and_time(NaiveTime::MIN);
            if timed {
                spec.rule
                    .next_after(today, zone.local(now).naive_local(), zone.tz())
            } else {
                spec.rule.occurrences(today, zone.tz()).next()
            }
        }
    };
    let first = first.ok_or_else(|| {
        Error::invalid(
            "recurrence.rrule",
            "the rule has no occurrence from the task's due date on",
        )
    })?;
    Ok(Placed {
        recurrence: Recurrence {
            rule: spec.rule,
            anchor: spec.anchor,
            start: first.local,
            done: 0,
        },
        due: due_of(first, timed),
    })
}

/// Where the task goes once the occurrence due `current` is done (or
/// skipped); None when the series is over (COUNT, UNTIL).
///
/// Counted from the series' dates (`due`), it is the first occurrence after
/// both the current one and now (today, for a task due all day): missed
/// occurrences never pile up. Counted from completion, the series starts
/// again today at its time of day, and it is the first occurrence after that.
pub(super) fn next(
    recurrence: &Recurrence,
    current: Due,
    zone: TimeZone,
    now: DateTime<Utc>,
) -> Option<Placed> {
    let timed = current.at.is_some();
    let now_wall = zone.local(now).naive_local();
    let today = now_wall.date();
    let (start, after) = match recurrence.anchor {
        Anchor::Due => {
            let floor = if timed {
                now_wall
            } else {
                today.and_time(NaiveTime::MIN)
            };
            (recurrence.start, wall(current, zone).max(floor))
        }
        Anchor::Completion => {
            if recurrence
                .rule
                .count()
                .is_some_and(|count| recurrence.done + 1 >= count)
            {
                return None;
            }
            let start = today.and_time(recurrence.start.time());
            (start, if timed { start.max(now_wall) } else { start })
        }
    };
    let occurrence = recurrence.rule.next_after(start, after, zone.tz())?;
    Some(Placed {
        recurrence: Recurrence {
            start,
            done: recurrence.done + 1,
            ..recurrence.clone()
        },
        due: due_of(occurrence, timed),
    })
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use todo_recurrence::Rule;

    use super::*;

    fn zone(name: &str) -> TimeZone {
        TimeZone::parse(name).unwrap()
    }

    fn spec(rrule: &str, anchor: Anchor) -> RecurrenceSpec {
        RecurrenceSpec {
            rule: Rule::parse(rrule).unwrap(),
            anchor,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn day(s: &str) -> Due {
        Due {
            date: s.parse::<NaiveDate>().unwrap(),
            at: None,
        }
    }

    #[test]
    fn a_rule_without_a_due_date_starts_today_or_at_its_next_time() {
        // Monday 7 December 2026, 10:00 in Berlin.
        let now = at("2026-12-07T09:00:00Z");
        let berlin = zone("Europe/Berlin");
        let weekly = place(spec("FREQ=WEEKLY;BYDAY=MO", Anchor::Due), None, berlin, now).unwrap();
        assert_eq!(weekly.due, day("2026-12-07"), "today is a Monday");
        let friday = place(spec("FREQ=WEEKLY;BYDAY=FR", Anchor::Due), None, berlin, now).unwrap();
        assert_eq!(friday.due, day("2026-12-11"));
        // 09:00 has passed in Berlin: tomorrow's, at 09:00 Berlin time.
        let nine = place(
            spec("FREQ=DAILY;BYHOUR=9;BYMINUTE=0", Anchor::Due),
            None,
            berlin,
            now,
        )
        .unwrap();
        assert_eq!(nine.due.date.to_string(), "2026-12-08");
        assert_eq!(nine.due.at, Some(at("2026-12-08T08:00:00Z")));
    }

    #[test]
    fn a_due_date_off_the_rule_moves_to_the_rules_first_day() {
        let now = at("2026-12-07T09:00:00Z");
        let placed = place(
            spec("FREQ=WEEKLY;BYDAY=MO", Anchor::Due),
            Some(day("2026-12-09")),
            zone("UTC"),
            now,
        )
        .unwrap();
        assert_eq!(placed.due, day("2026-12-14"));
        assert_eq!(placed.recurrence.start.to_string(), "2026-12-14 00:00:00");
    }

    #[test]
    fn missed_occurrences_do_not_pile_up() {
        let berlin = zone("Europe/Berlin");
        // Daily, due a week ago; done today (Monday 7 December): tomorrow.
        let placed = place(
            spec("FREQ=DAILY", Anchor::Due),
            Some(day("2026-11-30")),
            berlin,
            at("2026-11-30T08:00:00Z"),
        )
        .unwrap();
        let moved = next(
            &placed.recurrence,
            placed.due,
            berlin,
            at("2026-12-07T09:00:00Z"),
        )
        .unwrap();
        assert_eq!(moved.due, day("2026-12-08"));
        assert_eq!(
            moved.recurrence.start, placed.recurrence.start,
            "the series keeps its start"
        );
        // Done early, the day before it is due: the one after.
        let moved = next(
            &placed.recurrence,
            day("2026-12-08"),
            berlin,
            at("2026-12-07T09:00:00Z"),
        )
        .unwrap();
        assert_eq!(moved.due, day("2026-12-09"));
    }

    #[test]
    fn a_timed_series_keeps_its_wall_time_across_dst() {
        let berlin = zone("Europe/Berlin");
        // Saturdays at 09:00 from 21 March 2026; Berlin moves to CEST on the 29th.
        let placed = place(
            spec("FREQ=WEEKLY;BYDAY=SA", Anchor::Due),
            Some(Due {
                date: "2026-03-21".parse().unwrap(),
                at: Some(at("2026-03-21T08:00:00Z")),
            }),
            berlin,
            at("2026-03-20T00:00:00Z"),
        )
        .unwrap();
        let moved = next(
            &placed.recurrence,
            placed.due,
            berlin,
            at("2026-03-21T10:00:00Z"),
        )
        .unwrap();
        assert_eq!(moved.due.date.to_string(), "2026-03-28");
        assert_eq!(moved.due.at, Some(at("2026-03-28T08:00:00Z")), "09:00 CET");
        let moved = next(
            &moved.recurrence,
            moved.due,
            berlin,
            at("2026-03-28T10:00:00Z"),
        )
        .unwrap();
        assert_eq!(moved.due.at, Some(at("2026-04-04T07:00:00Z")), "09:00 CEST");
    }

    #[test]
    fn counted_from_completion_the_series_starts_again() {
        let utc = zone("UTC");
        let placed = place(
            spec("FREQ=DAILY;INTERVAL=3", Anchor::Completion),
            Some(day("2026-12-01")),
            utc,
            at("2026-12-01T00:00:00Z"),
        )
        .unwrap();
        // Done on the 7th, late: three days from then.
        let moved = next(
            &placed.recurrence,
            placed.due,
            utc,
            at("2026-12-07T15:00:00Z"),
        )
        .unwrap();
        assert_eq!(moved.due, day("2026-12-10"));
        assert_eq!(moved.recurrence.start.to_string(), "2026-12-07 00:00:00");
    }

    #[test]
    fn a_series_ends_with_its_count_or_until() {
        let utc = zone("UTC");
        let now = at("2026-12-01T00:00:00Z");
        let placed = place(
            spec("FREQ=DAILY;COUNT=2", Anchor::Due),
            Some(day("2026-12-01")),
            utc,
            now,
        )
        .unwrap();
        let second = next(&placed.recurrence, placed.due, utc, now).unwrap();
        assert_eq!(second.due, day("2026-12-02"));
        assert_eq!(next(&second.recurrence, second.due, utc, now), None);
        let until = place(
            spec("FREQ=WEEKLY;UNTIL=20261210", Anchor::Due),
            Some(day("2026-12-01")),
            utc,
            now,
        )
        .unwrap();
        let second = next(&until.recurrence, until.due, utc, now).unwrap();
        assert_eq!(second.due, day("2026-12-08"));
        assert_eq!(next(&second.recurrence, second.due, utc, now), None);
        let every = place(
            spec("FREQ=DAILY;COUNT=2", Anchor::Completion),
            Some(day("2026-12-01")),
            utc,
            now,
        )
        .unwrap();
        let second = next(&every.recurrence, every.due, utc, now).unwrap();
        assert_eq!(next(&second.recurrence, second.due, utc, now), None);
    }
}
