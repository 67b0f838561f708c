//! Property-style: arbitrary text (pieces of real phrases, numbers, dates,
//! punctuation, quotes, sigils, odd Unicode) at arbitrary wall clocks never
//! panics, every reply says something or calls tools with JSON arguments,
//! and quick add's chips lie on the text.

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::Value;
use todo_assistant::{quick_add, respond_at};
use todo_common::llm::{Message, Reply};

/// xorshift64*: deterministic, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "add",
    "new task:",
    "todo",
    "remind me to",
    "I need to",
    "don't let me forget",
    "done with",
    "complete",
    "reopen",
    "skip",
    "delete",
    "move",
    "push",
    "rename",
    "change",
    "to",
    "by",
    "at",
    "@",
    "on",
    "in",
    "every",
    "every!",
    "until",
    "starting",
    "next",
    "this",
    "the",
    "of",
    "end",
    "mid",
    "tomorrow",
    "tom",
    "tod",
    "tonight",
    "friday",
    "fri",
    "jan",
    "may",
    "march",
    "27/1",
    "12/24",
    "3/4",
    "31.12.",
    "2027-02-30",
    "the 15th",
    "5th",
    "6pm",
    "17:30",
    "25:99",
    "noon",
    "p1",
    "p4",
    "urgent",
    "high priority",
    "#work",
    "@home",
    "#",
    "@",
    "#12",
    "1-3",
    "7 through 9",
    "99999999999999999999",
    "-5",
    "0",
    "3",
    "and",
    ",",
    ";",
    "\n- ",
    "\"",
    "“",
    "”",
    "'",
    ":",
    "?",
    "!",
    "…",
    "ж",
    "読",
    "🙂",
    "\u{202e}",
    "\u{0}",
    "\t",
    "mom",
    "milk",
    "call",
    "bought",
    "called",
    "I",
    "show",
    "what's",
    "due",
    "before",
    "overdue",
    "tagged",
    "about",
    "how many",
    "next 3",
    "most important",
    "clear completed",
    "no date for",
    "add a note to 3:",
    "tag",
    "with",
    "in 2 hours",
    "in 100000 days",
    "in 99999 months",
    "half an",
    "hour",
    "days",
    "weeks",
];

fn arbitrary(rng: &mut Rng) -> String {
    let mut out = String::new();
    for _ in 0..rng.below(12) {
        if rng.below(5) == 0 {
            // A random character from a wide range.
            let c = char::from_u32(rng.below(0x3_0000) as u32).unwrap_or('?');
            out.push(c);
        } else {
            out.push_str(PIECES[rng.below(PIECES.len())]);
        }
        if rng.below(3) > 0 {
            out.push(' ');
        }
    }
    out
}

fn check(reply: &Reply, text: &str) {
    assert!(
        reply.content.is_some() || !reply.tool_calls.is_empty(),
        "{text:?}: {reply:?}"
    );
    for call in &reply.tool_calls {
        serde_json::from_str::<Value>(&call.arguments)
            .unwrap_or_else(|e| panic!("{text:?}: arguments not JSON: {e}"));
    }
}

const FOUND: &str = r#"{"tasks": [
  {"id": 1, "title": "Call mom", "due": "2026-12-07", "priority": "high"},
  {"id": 3, "title": "Buy milk", "priority": "medium", "tags": ["shopping"]},
  {"id": 5, "title": "Dentist appointment", "due": "2026-12-10T15:30"},
  {"id": 10, "title": "Pay bill", "done": true, "due": "9999-12-31T23:59"}
], "matching": 4}"#;

/// Long messages finish (in about linear time: the words read are capped).
#[test]
fn long_messages_finish() {
    let now = NaiveDate::from_ymd_opt(2026, 12, 7)
        .and_then(|d| d.and_hms_opt(10, 0, 0))
        .expect("valid time");
    for (head, unit) in [
        ("add ", "x to friday "),
        ("move ", "x to friday at 5pm "),
        ("add ", "every monday "),
        ("add ", "milk, "),
        ("", "call mom is urgent "),
        ("show ", "tasks due before friday "),
        ("done with ", "buy mlk "),
        ("add a note to 3: ", "bring the card "),
    ] {
        let text = format!("{head}{}", unit.repeat(2_000));
        let reply = respond_at(&[Message::user(text.as_str())], now);
        check(&reply, head);
    }
}

#[test]
fn arbitrary_text_never_panics() {
    let clocks: Vec<NaiveDateTime> = [
        (2026, 12, 7, 10, 0),
        (2026, 12, 31, 23, 59),
        (2028, 2, 29, 0, 0),
        (1970, 1, 1, 0, 0),
        (9999, 12, 31, 23, 59),
        (262_000, 1, 1, 12, 0),
    ]
    .iter()
    .filter_map(|&(y, m, d, h, min)| NaiveDate::from_ymd_opt(y, m, d)?.and_hms_opt(h, min, 0))
    .collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..20_000 {
        let text = arbitrary(&mut rng);
        let now = clocks[round % clocks.len()];
        let user = Message::user(text.as_str());
        let first = respond_at(std::slice::from_ref(&user), now);
        check(&first, &text);
        if first.tool_calls.iter().any(|c| c.name == "list_tasks") {
            let mut asked = Message::assistant("");
            asked.tool_calls = first.tool_calls.clone();
            let mut messages = vec![user, asked];
            for call in &first.tool_calls {
                messages.push(Message::tool_result(call.id.clone(), FOUND));
            }
            check(&respond_at(&messages, now), &text);
        }
        // Quick add, with byte ranges to keep anywhere (past the end,
        // reversed, inside a letter): chips lie on the text, in order.
        let keep: Vec<(usize, usize)> = (0..rng.below(3))
            .map(|_| (rng.below(text.len() + 4), rng.below(text.len() + 4)))
            .collect();
        let read = quick_add(&text, now, &keep);
        let mut last_end = 0;
        for chip in &read.chips {
            assert!(
                chip.start >= last_end
                    && chip.start < chip.end
                    && text.get(chip.start..chip.end).is_some(),
                "{text:?}: {chip:?}"
            );
            last_end = chip.end;
        }
    }
}
