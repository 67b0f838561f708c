//! RFC 5545 section 3.8.5.3's examples that fall in our subset, with the
//! dates its text lists, in America/New_York as it uses: across October 26,
//! 1997 (EDT → EST) and April 5, 1998 (EST → EDT) the occurrences stay at
//! 09:00 and their offset changes.

use chrono_tz::America::New_York;

use crate::{local, rule, shown};

const EDT: &str = "09:00-04:00";
const EST: &str = "09:00-05:00";

/// Days of one month at one time: `on("1997-09", &[2, 4], EDT)`.
fn on(month: &str, days: &[u32], time: &str) -> Vec<String> {
    days.iter()
        .map(|day| format!("{month}-{day:02}T{time}"))
        .collect()
}

/// The whole series (it must end by itself: COUNT or UNTIL).
fn all(start: &str, text: &str) -> Vec<String> {
    let occurrences: Vec<String> = rule(text)
        .occurrences(local(start), New_York)
        .take(1000)
        .map(|o| shown(&o, New_York))
        .collect();
    assert!(occurrences.len() < 1000, "{text} did not end");
    occurrences
}

/// The first `n` occurrences of a series that goes on forever.
fn first(start: &str, text: &str, n: usize) -> Vec<String> {
    rule(text)
        .occurrences(local(start), New_York)
        .take(n)
        .map(|o| shown(&o, New_York))
        .collect()
}

fn concat(parts: &[Vec<String>]) -> Vec<String> {
    parts.concat()
}

fn range(from: u32, to: u32) -> Vec<u32> {
    (from..=to).collect()
}

fn every_other(from: u32, to: u32) -> Vec<u32> {
    (from..=to).step_by(2).collect()
}

#[test]
fn daily_for_10_occurrences() {
    assert_eq!(
        all("19970902T090000", "FREQ=DAILY;COUNT=10"),
        on("1997-09", &range(2, 11), EDT)
    );
}

#[test]
fn daily_until_december_24_1997_keeps_9am_across_dst() {
    let expected = concat(&[
        on("1997-09", &range(2, 30), EDT),
        on("1997-10", &range(1, 25), EDT),
        on("1997-10", &range(26, 31), EST),
        on("1997-11", &range(1, 30), EST),
        on("1997-12", &range(1, 23), EST),
    ]);
    assert_eq!(
        all("19970902T090000", "FREQ=DAILY;UNTIL=19971224T000000Z"),
        expected
    );
}

#[test]
fn every_other_day_forever() {
    let expected = concat(&[
        on("1997-09", &every_other(2, 30), EDT),
        on("1997-10", &every_other(2, 24), EDT),
        on("1997-10", &every_other(26, 30), EST),
        on("1997-11", &every_other(1, 29), EST),
        on("1997-12", &every_other(1, 31), EST),
    ]);
    assert_eq!(
        first("19970902T090000", "FREQ=DAILY;INTERVAL=2", expected.len()),
        expected
    );
}

#[test]
fn every_10_days_5_occurrences() {
    let expected = concat(&[
        on("1997-09", &[2, 12, 22], EDT),
        on("1997-10", &[2, 12], EDT),
    ]);
    assert_eq!(
        all("19970902T090000", "FREQ=DAILY;INTERVAL=10;COUNT=5"),
        expected
    );
}

#[test]
fn every_day_in_january_for_3_years_two_ways() {
    let expected = concat(&[
        on("1998-01", &range(1, 31), EST),
        on("1999-01", &range(1, 31), EST),
        on("2000-01", &range(1, 31), EST),
    ]);
    assert_eq!(
        all(
            "19980101T090000",
            "FREQ=YEARLY;UNTIL=20000131T140000Z;BYMONTH=1;BYDAY=SU,MO,TU,WE,TH,FR,SA"
        ),
        expected
    );
    assert_eq!(
        all(
            "19980101T090000",
            "FREQ=DAILY;UNTIL=20000131T140000Z;BYMONTH=1"
        ),
        expected
    );
}

#[test]
fn weekly_for_10_occurrences() {
    let expected = concat(&[
        on("1997-09", &[2, 9, 16, 23, 30], EDT),
        on("1997-10", &[7, 14, 21], EDT),
        on("1997-10", &[28], EST),
        on("1997-11", &[4], EST),
    ]);
    assert_eq!(all("19970902T090000", "FREQ=WEEKLY;COUNT=10"), expected);
}

#[test]
fn weekly_until_december_24_1997() {
    let expected = concat(&[
        on("1997-09", &[2, 9, 16, 23, 30], EDT),
        on("1997-10", &[7, 14, 21], EDT),
        on("1997-10", &[28], EST),
        on("1997-11", &[4, 11, 18, 25], EST),
        on("1997-12", &[2, 9, 16, 23], EST),
    ]);
    assert_eq!(
        all("19970902T090000", "FREQ=WEEKLY;UNTIL=19971224T000000Z"),
        expected
    );
}

#[test]
fn every_other_week_forever() {
    let expected = concat(&[
        on("1997-09", &[2, 16, 30], EDT),
        on("1997-10", &[14], EDT),
        on("1997-10", &[28], EST),
        on("1997-11", &[11, 25], EST),
        on("1997-12", &[9, 23], EST),
        on("1998-01", &[6, 20], EST),
        on("1998-02", &[3, 17], EST),
    ]);
    assert_eq!(
        first(
            "19970902T090000",
            "FREQ=WEEKLY;INTERVAL=2;WKST=SU",
            expected.len()
        ),
        expected
    );
}

#[test]
fn weekly_on_tuesday_and_thursday_for_five_weeks_two_ways() {
    let expected = concat(&[
        on("1997-09", &[2, 4, 9, 11, 16, 18, 23, 25, 30], EDT),
        on("1997-10", &[2], EDT),
    ]);
    assert_eq!(
        all(
            "19970902T090000",
            "FREQ=WEEKLY;UNTIL=19971007T000000Z;WKST=SU;BYDAY=TU,TH"
        ),
        expected
    );
    assert_eq!(
        all(
            "19970902T090000",
            "FREQ=WEEKLY;COUNT=10;WKST=SU;BYDAY=TU,TH"
        ),
        expected
    );
}

#[test]
fn every_other_week_on_monday_wednesday_friday_until_december_24() {
    let expected = concat(&[
        on("1997-09", &[1, 3, 5, 15, 17, 19, 29], EDT),
        on("1997-10", &[1, 3, 13, 15, 17], EDT),
        on("1997-10", &[27, 29, 31], EST),
        on("1997-11", &[10, 12, 14, 24, 26, 28], EST),
        on("1997-12", &[8, 10, 12, 22], EST),
    ]);
    assert_eq!(
        all(
            "19970901T090000",
            "FREQ=WEEKLY;INTERVAL=2;UNTIL=19971224T000000Z;WKST=SU;BYDAY=MO,WE,FR"
        ),
        expected
    );
}

#[test]
fn every_other_week_on_tuesday_and_thursday_for_8_occurrences() {
    let expected = concat(&[
        on("1997-09", &[2, 4, 16, 18, 30], EDT),
        on("1997-10", &[2, 14, 16], EDT),
    ]);
    assert_eq!(
        all(
            "19970902T090000",
            "FREQ=WEEKLY;INTERVAL=2;COUNT=8;WKST=SU;BYDAY=TU,TH"
        ),
        expected
    );
}

#[test]
fn monthly_on_the_first_friday_for_10_occurrences() {
    let expected = concat(&[
        on("1997-09", &[5], EDT),
        on("1997-10", &[3], EDT),
        on("1997-11", &[7], EST),
        on("1997-12", &[5], EST),
        on("1998-01", &[2], EST),
        on("1998-02", &[6], EST),
        on("1998-03", &[6], EST),
        on("1998-04", &[3], EST),
        on("1998-05", &[1], EDT),
        on("1998-06", &[5], EDT),
    ]);
    assert_eq!(
        all("19970905T090000", "FREQ=MONTHLY;COUNT=10;BYDAY=1FR"),
        expected
    );
}

#[test]
fn monthly_on_the_first_friday_until_december_24() {
    let expected = concat(&[
        on("1997-09", &[5], EDT),
        on("1997-10", &[3], EDT),
        on("1997-11", &[7], EST),
        on("1997-12", &[5], EST),
    ]);
    assert_eq!(
        all(
            "19970905T090000",
            "FREQ=MONTHLY;UNTIL=19971224T000000Z;BYDAY=1FR"
        ),
        expected
    );
}

#[test]
fn every_other_month_on_the_first_and_last_sunday_for_10_occurrences() {
    let expected = concat(&[
        on("1997-09", &[7, 28], EDT),
        on("1997-11", &[2, 30], EST),
        on("1998-01", &[4, 25], EST),
        on("1998-03", &[1, 29], EST),
        on("1998-05", &[3, 31], EDT),
    ]);
    assert_eq!(
        all(
            "19970907T090000",
            "FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYDAY=1SU,-1SU"
        ),
        expected
    );
}

#[test]
fn monthly_on_the_second_to_last_monday_for_6_months() {
    let expected = concat(&[
        on("1997-09", &[22], EDT),
        on("1997-10", &[20], EDT),
        on("1997-11", &[17], EST),
        on("1997-12", &[22], EST),
        on("1998-01", &[19], EST),
        on("1998-02", &[16], EST),
    ]);
    assert_eq!(
        all("19970922T090000", "FREQ=MONTHLY;COUNT=6;BYDAY=-2MO"),
        expected
    );
}

#[test]
fn monthly_on_the_third_to_last_day_forever() {
    let expected = concat(&[
        on("1997-09", &[28], EDT),
        on("1997-10", &[29], EST),
        on("1997-11", &[28], EST),
        on("1997-12", &[29], EST),
        on("1998-01", &[29], EST),
        on("1998-02", &[26], EST),
    ]);
    assert_eq!(
        first(
            "19970928T090000",
            "FREQ=MONTHLY;BYMONTHDAY=-3",
            expected.len()
        ),
        expected
    );
}

#[test]
fn monthly_on_the_2nd_and_15th_for_10_occurrences() {
    let expected = concat(&[
        on("1997-09", &[2, 15], EDT),
        on("1997-10", &[2, 15], EDT),
        on("1997-11", &[2, 15], EST),
        on("1997-12", &[2, 15], EST),
        on("1998-01", &[2, 15], EST),
    ]);
    assert_eq!(
        all("19970902T090000", "FREQ=MONTHLY;COUNT=10;BYMONTHDAY=2,15"),
        expected
    );
}

#[test]
fn monthly_on_the_first_and_last_day_for_10_occurrences() {
    let expected = concat(&[
        on("1997-09", &[30], EDT),
        on("1997-10", &[1], EDT),
        on("1997-10", &[31], EST),
        on("1997-11", &[1, 30], EST),
        on("1997-12", &[1, 31], EST),
        on("1998-01", &[1, 31], EST),
        on("1998-02", &[1], EST),
    ]);
    assert_eq!(
        all("19970930T090000", "FREQ=MONTHLY;COUNT=10;BYMONTHDAY=1,-1"),
        expected
    );
}

#[test]
fn every_18_months_on_the_10th_to_15th_for_10_occurrences() {
    let expected = concat(&[
        on("1997-09", &range(10, 15), EDT),
        on("1999-03", &range(10, 13), EST),
    ]);
    assert_eq!(
        all(
            "19970910T090000",
            "FREQ=MONTHLY;INTERVAL=18;COUNT=10;BYMONTHDAY=10,11,12,13,14,15"
        ),
        expected
    );
}

#[test]
fn every_tuesday_every_other_month() {
    let expected = concat(&[
        on("1997-09", &[2, 9, 16, 23, 30], EDT),
        on("1997-11", &[4, 11, 18, 25], EST),
        on("1998-01", &[6, 13, 20, 27], EST),
        on("1998-03", &[3, 10, 17, 24, 31], EST),
    ]);
    assert_eq!(
        first(
            "19970902T090000",
            "FREQ=MONTHLY;INTERVAL=2;BYDAY=TU",
            expected.len()
        ),
        expected
    );
}

#[test]
fn yearly_in_june_and_july_for_10_occurrences() {
    let expected: Vec<String> = (1997..=2001)
        .flat_map(|year| {
            concat(&[
                on(&format!("{year}-06"), &[10], EDT),
                on(&format!("{year}-07"), &[10], EDT),
            ])
        })
        .collect();
    assert_eq!(
        all("19970610T090000", "FREQ=YEARLY;COUNT=10;BYMONTH=6,7"),
        expected
    );
}

#[test]
fn every_other_year_in_january_february_and_march_for_10_occurrences() {
    let mut expected = on("1997-03", &[10], EST);
    for year in [1999, 2001, 2003] {
        for month in 1..=3 {
            expected.extend(on(&format!("{year}-{month:02}"), &[10], EST));
        }
    }
    assert_eq!(
        all(
            "19970310T090000",
            "FREQ=YEARLY;INTERVAL=2;COUNT=10;BYMONTH=1,2,3"
        ),
        expected
    );
}

#[test]
fn every_20th_monday_of_the_year() {
    let expected = concat(&[
        on("1997-05", &[19], EDT),
        on("1998-05", &[18], EDT),
        on("1999-05", &[17], EDT),
    ]);
    assert_eq!(
        first("19970519T090000", "FREQ=YEARLY;BYDAY=20MO", 3),
        expected
    );
}

#[test]
fn every_thursday_in_march() {
    let expected = concat(&[
        on("1997-03", &[13, 20, 27], EST),
        on("1998-03", &[5, 12, 19, 26], EST),
        on("1999-03", &[4, 11, 18, 25], EST),
    ]);
    assert_eq!(
        first(
            "19970313T090000",
            "FREQ=YEARLY;BYMONTH=3;BYDAY=TH",
            expected.len()
        ),
        expected
    );
}

#[test]
fn every_thursday_only_in_june_july_and_august() {
    let expected = concat(&[
        on("1997-06", &[5, 12, 19, 26], EDT),
        on("1997-07", &[3, 10, 17, 24, 31], EDT),
        on("1997-08", &[7, 14, 21, 28], EDT),
        on("1998-06", &[4, 11, 18, 25], EDT),
        on("1998-07", &[2, 9, 16, 23, 30], EDT),
        on("1998-08", &[6, 13, 20, 27], EDT),
        on("1999-06", &[3, 10, 17, 24], EDT),
        on("1999-07", &[1, 8, 15, 22, 29], EDT),
        on("1999-08", &[5, 12, 19, 26], EDT),
    ]);
    assert_eq!(
        first(
            "19970605T090000",
            "FREQ=YEARLY;BYDAY=TH;BYMONTH=6,7,8",
            expected.len()
        ),
        expected
    );
}

/// The RFC excludes its non-matching DTSTART with an EXDATE; here a start
/// that does not match is simply not an occurrence.
#[test]
fn every_friday_the_13th() {
    let expected = concat(&[
        on("1998-02", &[13], EST),
        on("1998-03", &[13], EST),
        on("1998-11", &[13], EST),
        on("1999-08", &[13], EDT),
        on("2000-10", &[13], EDT),
    ]);
    assert_eq!(
        first("19970902T090000", "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", 5),
        expected
    );
}

#[test]
fn the_first_saturday_that_follows_the_first_sunday_of_the_month() {
    let expected = concat(&[
        on("1997-09", &[13], EDT),
        on("1997-10", &[11], EDT),
        on("1997-11", &[8], EST),
        on("1997-12", &[13], EST),
        on("1998-01", &[10], EST),
        on("1998-02", &[7], EST),
        on("1998-03", &[7], EST),
        on("1998-04", &[11], EDT),
        on("1998-05", &[9], EDT),
        on("1998-06", &[13], EDT),
    ]);
    assert_eq!(
        first(
            "19970913T090000",
            "FREQ=MONTHLY;BYDAY=SA;BYMONTHDAY=7,8,9,10,11,12,13",
            10
        ),
        expected
    );
}

#[test]
fn us_presidential_election_day_every_4_years() {
    let expected = concat(&[
        on("1996-11", &[5], EST),
        on("2000-11", &[7], EST),
        on("2004-11", &[2], EST),
    ]);
    assert_eq!(
        first(
            "19961105T090000",
            "FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8",
            3
        ),
        expected
    );
}

#[test]
fn the_third_tuesday_wednesday_or_thursday_for_3_months() {
    let expected = concat(&[
        on("1997-09", &[4], EDT),
        on("1997-10", &[7], EDT),
        on("1997-11", &[6], EST),
    ]);
    assert_eq!(
        all(
            "19970904T090000",
            "FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3"
        ),
        expected
    );
}

#[test]
fn the_second_to_last_weekday_of_the_month() {
    let expected = concat(&[
        on("1997-09", &[29], EDT),
        on("1997-10", &[30], EST),
        on("1997-11", &[27], EST),
        on("1997-12", &[30], EST),
        on("1998-01", &[29], EST),
        on("1998-02", &[26], EST),
        on("1998-03", &[30], EST),
    ]);
    assert_eq!(
        first(
            "19970929T090000",
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2",
            7
        ),
        expected
    );
}

/// RFC 5545 3.3.10 gives this rule for "the last work day of the month"
/// without dates; these are the last weekdays of each month.
#[test]
fn the_last_work_day_of_the_month() {
    let expected = concat(&[
        on("1997-09", &[30], EDT),
        on("1997-10", &[31], EST),
        on("1997-11", &[28], EST),
        on("1997-12", &[31], EST),
        on("1998-01", &[30], EST),
        on("1998-02", &[27], EST),
        on("1998-03", &[31], EST),
    ]);
    assert_eq!(
        first(
            "19970930T090000",
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
            7
        ),
        expected
    );
}

#[test]
fn every_20_minutes_from_9_to_16_40_every_day() {
    let mut expected = Vec::new();
    for hour in 9..=16 {
        for minute in [0, 20, 40] {
            expected.push(format!("1997-09-02T{hour:02}:{minute:02}-04:00"));
        }
    }
    expected.push("1997-09-03T09:00-04:00".to_string());
    assert_eq!(
        first(
            "19970902T090000",
            "FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16;BYMINUTE=0,20,40",
            expected.len()
        ),
        expected
    );
}

#[test]
fn the_week_start_changes_which_days_an_every_other_week_rule_takes() {
    assert_eq!(
        all(
            "19970805T090000",
            "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO"
        ),
        on("1997-08", &[5, 10, 19, 24], EDT)
    );
    assert_eq!(
        all(
            "19970805T090000",
            "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU"
        ),
        on("1997-08", &[5, 17, 19, 31], EDT)
    );
}

/// Where we part from RFC 5545 on purpose: its example skips February 30
/// (January 15 and 30, February 15, March 15 and 30); RFC 7529's
/// SKIP=BACKWARD, which the contract asks for, moves it to February 28.
#[test]
fn an_invalid_date_clamps_to_the_month_end_instead_of_being_skipped() {
    let expected = concat(&[
        on("2007-01", &[15, 30], EST),
        on("2007-02", &[15, 28], EST),
        on("2007-03", &[15], EDT),
    ]);
    assert_eq!(
        all("20070115T090000", "FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5"),
        expected
    );
}
