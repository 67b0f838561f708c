//! `Rule::describe`: each form in plain English.

use crate::{local, rule};

/// (rule, start, words): a Tuesday, 7 April 2026, unless the row says otherwise.
const TABLE: &[(&str, &str, &str)] = &[
    ("FREQ=DAILY", "", "every day"),
    ("FREQ=DAILY;INTERVAL=2", "", "every other day"),
    ("FREQ=DAILY;INTERVAL=3", "", "every 3 days"),
    ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "", "every weekday"),
    ("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", "", "every weekday"),
    ("FREQ=WEEKLY;BYDAY=SA,SU", "", "every Saturday and Sunday"),
    ("FREQ=WEEKLY", "", "every Tuesday"),
    ("FREQ=WEEKLY;BYDAY=MO", "", "every Monday"),
    (
        "FREQ=WEEKLY;BYDAY=MO,WE,FR",
        "",
        "every Monday, Wednesday and Friday",
    ),
    (
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR",
        "",
        "every other week on Monday and Friday",
    ),
    ("FREQ=WEEKLY;INTERVAL=3", "", "every 3 weeks on Tuesday"),
    (
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=SU",
        "",
        "every other week on Tuesday and Sunday, weeks starting on Sunday",
    ),
    ("FREQ=MONTHLY", "", "every month on the 7th"),
    (
        "FREQ=MONTHLY",
        "2026-01-31 09:00",
        "every month on the 31st",
    ),
    (
        "FREQ=MONTHLY;INTERVAL=2",
        "",
        "every other month on the 7th",
    ),
    (
        "FREQ=MONTHLY;BYMONTHDAY=2,15",
        "",
        "every month on the 2nd and 15th",
    ),
    (
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        "",
        "every month on the last day",
    ),
    (
        "FREQ=MONTHLY;BYMONTHDAY=1,-1",
        "",
        "every month on the 1st and the last day",
    ),
    (
        "FREQ=MONTHLY;BYMONTHDAY=-3",
        "",
        "every month on the 3rd to last day",
    ),
    ("FREQ=MONTHLY;BYDAY=3FR", "", "every 3rd Friday"),
    ("FREQ=MONTHLY;BYDAY=-1FR", "", "every last Friday"),
    ("FREQ=MONTHLY;BYDAY=-2MO", "", "every 2nd to last Monday"),
    (
        "FREQ=MONTHLY;INTERVAL=2;BYDAY=1SU,-1SU",
        "",
        "every other month on the 1st and last Sunday",
    ),
    (
        "FREQ=MONTHLY;BYDAY=1MO,3FR",
        "",
        "every month on the 1st Monday and the 3rd Friday",
    ),
    (
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "",
        "every month on the last weekday",
    ),
    // A year's set over two months: the 1st Monday of both together (a
    // property test found "of January and February" read back as each).
    (
        "FREQ=YEARLY;BYMONTH=1,2;BYDAY=MO;BYSETPOS=1",
        "",
        "every Monday in January and February, keeping only the 1st of each year",
    ),
    (
        "FREQ=MONTHLY;BYDAY=TU,WE,TH;BYSETPOS=3",
        "",
        "every month on the 3rd Tuesday, Wednesday or Thursday",
    ),
    (
        "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13",
        "",
        "every month on the 13th when it is a Friday",
    ),
    (
        "FREQ=MONTHLY;INTERVAL=2;BYDAY=TU",
        "",
        "every other month on Tuesdays",
    ),
    ("FREQ=MONTHLY;BYDAY=TU", "", "every Tuesday"),
    (
        "FREQ=YEARLY",
        "2028-02-29 08:00",
        "every year on 29 February",
    ),
    ("FREQ=YEARLY;INTERVAL=4", "", "every 4 years on 7 April"),
    (
        "FREQ=YEARLY;BYMONTH=6,7",
        "2026-06-10 09:00",
        "every year on 10 June and 10 July",
    ),
    (
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        "",
        "every year on 29 February",
    ),
    (
        "FREQ=YEARLY;BYMONTH=3;BYDAY=TH",
        "",
        "every Thursday in March",
    ),
    (
        "FREQ=YEARLY;BYDAY=20MO",
        "",
        "every year on the 20th Monday of the year",
    ),
    (
        "FREQ=YEARLY;BYMONTH=4;BYDAY=1SU",
        "",
        "every year on the 1st Sunday of April",
    ),
    (
        "FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8",
        "",
        "every 4 years on the 2nd, 3rd, 4th, 5th, 6th, 7th and 8th of November when it is a Tuesday",
    ),
    (
        "FREQ=YEARLY;BYMONTH=1;BYDAY=SU,MO,TU,WE,TH,FR,SA",
        "",
        "every day in January",
    ),
    ("FREQ=DAILY;BYMONTH=1", "", "every day in January"),
    ("FREQ=DAILY;BYHOUR=9;BYMINUTE=0", "", "every day at 09:00"),
    (
        "FREQ=DAILY;BYHOUR=9",
        "2026-04-07 08:30",
        "every day at 09:30",
    ),
    (
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9,17;BYMINUTE=0",
        "",
        "every weekday at 09:00 and 17:00",
    ),
    (
        "FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16;BYMINUTE=0,20,40",
        "",
        "every day at :00, :20 and :40 past 09, 10, 11, 12, 13, 14, 15 and 16",
    ),
    ("FREQ=DAILY;INTERVAL=3;COUNT=5", "", "every 3 days, 5 times"),
    ("FREQ=DAILY;COUNT=1", "", "every day, once"),
    (
        "FREQ=WEEKLY;BYDAY=MO;UNTIL=20270331",
        "",
        "every Monday until 31 March 2027",
    ),
    (
        "FREQ=WEEKLY;BYDAY=MO;UNTIL=20270331T170000",
        "",
        "every Monday until 17:00 on 31 March 2027",
    ),
    (
        "FREQ=WEEKLY;BYDAY=MO;UNTIL=20270331T160000Z",
        "",
        "every Monday until 16:00 UTC on 31 March 2027",
    ),
    (
        "FREQ=DAILY;INTERVAL=2;BYDAY=MO,FR",
        "",
        "every other day, only on Mondays and Fridays",
    ),
    (
        "FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9,10;BYSETPOS=1",
        "",
        "every month on the 1st at 09:00 and 10:00, keeping only the 1st of each month",
    ),
];

#[test]
fn each_form_in_plain_english() {
    let mut wrong = Vec::new();
    for &(text, start, expected) in TABLE {
        let start = local(if start.is_empty() {
            "2026-04-07 09:00"
        } else {
            start
        });
        let said = rule(text).describe(start);
        if said != expected {
            wrong.push(format!("{text}: {said:?}, expected {expected:?}"));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}
