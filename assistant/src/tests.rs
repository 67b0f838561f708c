//! End to end through `respond`: sentence in, tool calls or text out.

use super::*;
use serde_json::json;

/// A Wednesday.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).expect("valid date")
}

fn reply_to(text: &str) -> Reply {
    respond(&[Message::system("be brief"), Message::user(text)], today())
}

/// The one tool call `text` produces, with parsed arguments.
fn call_for(text: &str) -> (String, Value) {
    let reply = reply_to(text);
    assert_eq!(reply.content, None, "{text:?}: {reply:?}");
    assert_eq!(reply.tool_calls.len(), 1, "{text:?}: {reply:?}");
    let call = &reply.tool_calls[0];
    let args = serde_json::from_str(&call.arguments).expect("arguments are JSON");
    (call.name.clone(), args)
}

#[track_caller]
fn assert_call(text: &str, name: &str, args: Value) {
    assert_eq!(call_for(text), (name.to_string(), args), "{text:?}");
}

fn text_of(reply: &Reply) -> &str {
    assert!(reply.tool_calls.is_empty(), "{reply:?}");
    reply.content.as_deref().expect("a text reply")
}

fn text_for(text: &str) -> String {
    text_of(&reply_to(text)).to_string()
}

/// The conversation after the assistant asked for `reply`'s calls and
/// got `results` (one per call, in order).
fn with_results(user: &str, reply: &Reply, results: &[&str]) -> Vec<Message> {
    let mut messages = vec![Message::user(user)];
    let mut asked = Message::assistant("");
    asked.tool_calls = reply.tool_calls.clone();
    messages.push(asked);
    for (call, result) in reply.tool_calls.iter().zip(results) {
        messages.push(Message::tool_result(call.id.clone(), *result));
    }
    messages
}

/// The final text after one round of `results` for `user`'s calls.
fn answer(user: &str, results: &[&str]) -> String {
    let first = reply_to(user);
    let messages = with_results(user, &first, results);
    text_of(&respond(&messages, today())).to_string()
}

#[test]
fn the_example_from_the_brief() {
    assert_call(
        "add call mom tomorrow, high priority",
        "add_task",
        json!({"title": "call mom", "due_date": "2026-11-26", "priority": "high"}),
    );
}

#[test]
fn tool_call_ids_are_unique_and_shaped_like_openai() {
    let reply = reply_to("complete 3 and 5");
    let ids: Vec<&str> = reply.tool_calls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    for id in ids {
        let hex = id.strip_prefix("call_").expect("call_ prefix");
        assert_eq!(hex.len(), 24);
        assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    assert_eq!(reply.usage, None);
}

#[test]
fn add_verbs_and_politeness() {
    for text in [
        "add call mom",
        "Add call mom.",
        "create call mom",
        "new task call mom",
        "new task: call mom",
        "remember to call mom",
        "remind me to call mom",
        "todo: call mom",
        "todo:call mom",
        "please add call mom",
        "can you add call mom?",
        "could you please add call mom please!",
        "hey, add call mom",
        "add a task to call mom",
        "add task: call mom",
        "add call mom to my list",
    ] {
        assert_call(text, "add_task", json!({"title": "call mom"}));
    }
}

#[test]
fn add_keeps_the_title_as_typed() {
    assert_call("add Call Mom", "add_task", json!({"title": "Call Mom"}));
    assert_call(
        "add купить молоко 🥛",
        "add_task",
        json!({"title": "купить молоко 🥛"}),
    );
    assert_call(
        "add 読書する tomorrow",
        "add_task",
        json!({"title": "読書する", "due_date": "2026-11-26"}),
    );
    // Date words inside the title stay there.
    assert_call(
        "add prepare tomorrow's meeting",
        "add_task",
        json!({"title": "prepare tomorrow's meeting"}),
    );
    assert_call(
        "add \"buy milk\" today",
        "add_task",
        json!({"title": "buy milk", "due_date": "2026-11-25"}),
    );
}

#[test]
fn add_modifiers() {
    let cases = [
        (
            "add pay rent today",
            json!({"title": "pay rent", "due_date": "2026-11-25"}),
        ),
        (
            "add movie tonight",
            json!({"title": "movie", "due_at": "2026-11-25T20:00"}),
        ),
        (
            "add pay rent on friday",
            json!({"title": "pay rent", "due_date": "2026-11-27"}),
        ),
        (
            "add pay rent by Friday",
            json!({"title": "pay rent", "due_date": "2026-11-27"}),
        ),
        (
            "add pay rent next friday",
            json!({"title": "pay rent", "due_date": "2026-11-27"}),
        ),
        (
            "add pay rent monday",
            json!({"title": "pay rent", "due_date": "2026-11-30"}),
        ),
        (
            "add pay rent in 3 days",
            json!({"title": "pay rent", "due_date": "2026-11-28"}),
        ),
        (
            "add pay rent in a week",
            json!({"title": "pay rent", "due_date": "2026-12-02"}),
        ),
        (
            "add pay rent in 2 weeks",
            json!({"title": "pay rent", "due_date": "2026-12-09"}),
        ),
        (
            "add pay rent next week",
            json!({"title": "pay rent", "due_date": "2026-12-02"}),
        ),
        (
            "add pay rent 2026-12-01",
            json!({"title": "pay rent", "due_date": "2026-12-01"}),
        ),
        (
            "add pay rent due 2027-01-15",
            json!({"title": "pay rent", "due_date": "2027-01-15"}),
        ),
        (
            "add pay rent december 1",
            json!({"title": "pay rent", "due_date": "2026-12-01"}),
        ),
        (
            "add pay rent 3rd of march",
            json!({"title": "pay rent", "due_date": "2027-03-03"}),
        ),
        (
            "add pay rent the day after tomorrow",
            json!({"title": "pay rent", "due_date": "2026-11-27"}),
        ),
        (
            "add pay rent, urgent",
            json!({"title": "pay rent", "priority": "urgent"}),
        ),
        (
            "add pay rent important",
            json!({"title": "pay rent", "priority": "high"}),
        ),
        (
            "add pay rent low priority",
            json!({"title": "pay rent", "priority": "low"}),
        ),
        (
            "add pay rent medium priority",
            json!({"title": "pay rent", "priority": "medium"}),
        ),
        (
            "add pay rent with high priority",
            json!({"title": "pay rent", "priority": "high"}),
        ),
        (
            "add pay rent #home",
            json!({"title": "pay rent", "tags": ["home"]}),
        ),
        (
            "add #home pay rent #money",
            json!({"title": "pay rent", "tags": ["home", "money"]}),
        ),
        (
            "add pay rent tomorrow and urgent",
            json!({"title": "pay rent", "due_date": "2026-11-26", "priority": "urgent"}),
        ),
        (
            "add pay rent, high priority, by friday #home please",
            json!({"title": "pay rent", "due_date": "2026-11-27", "priority": "high", "tags": ["home"]}),
        ),
        // "#12" is not a tag.
        ("add fix bug #12", json!({"title": "fix bug #12"})),
    ];
    for (text, args) in cases {
        assert_call(text, "add_task", args);
    }
}

/// Issue 21's words: times of day, recurrence, reminders. Noon on
/// Wednesday 25 November 2026.
#[test]
fn times_recurrence_and_reminders() {
    let cases = [
        (
            "add call mom tomorrow at 5pm",
            json!({"title": "call mom", "due_at": "2026-11-26T17:00"}),
        ),
        (
            "add call mom at 5pm",
            json!({"title": "call mom", "due_at": "2026-11-25T17:00"}),
        ),
        // 9am has passed today: tomorrow's.
        (
            "add stand-up at 9am",
            json!({"title": "stand-up", "due_at": "2026-11-26T09:00"}),
        ),
        (
            "add dentist friday at 14:30",
            json!({"title": "dentist", "due_at": "2026-11-27T14:30"}),
        ),
        (
            "add gym tomorrow morning",
            json!({"title": "gym", "due_at": "2026-11-26T09:00"}),
        ),
        (
            "add lunch with Ana at noon",
            json!({"title": "lunch with Ana", "due_at": "2026-11-26T12:00"}),
        ),
        (
            "add water the plants every monday",
            json!({"title": "water the plants", "recurrence": {"rrule": "FREQ=WEEKLY;BYDAY=MO", "anchor": "due"}}),
        ),
        (
            "add every weekday check email",
            json!({"title": "check email", "recurrence": {"rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "anchor": "due"}}),
        ),
        (
            "add pay rent every last day",
            json!({"title": "pay rent", "recurrence": {"rrule": "FREQ=MONTHLY;BYMONTHDAY=-1", "anchor": "due"}}),
        ),
        (
            "add team lunch every 3rd friday",
            json!({"title": "team lunch", "recurrence": {"rrule": "FREQ=MONTHLY;BYDAY=3FR", "anchor": "due"}}),
        ),
        (
            "add water the ficus every! 3 days",
            json!({"title": "water the ficus", "recurrence": {"rrule": "FREQ=DAILY;INTERVAL=3", "anchor": "completion"}}),
        ),
        (
            "add review budget every other week",
            json!({"title": "review budget", "recurrence": {"rrule": "FREQ=WEEKLY;INTERVAL=2", "anchor": "due"}}),
        ),
        (
            "remind me to call mom at 6pm",
            json!({"title": "call mom", "due_at": "2026-11-25T18:00", "reminders": [{"before_due_minutes": 0}]}),
        ),
        (
            "add dentist tomorrow at 3pm, remind me 30 minutes before",
            json!({"title": "dentist", "due_at": "2026-11-26T15:00", "reminders": [{"before_due_minutes": 30}]}),
        ),
        (
            "add flight friday at 8am with a reminder 2 hours before",
            json!({"title": "flight", "due_at": "2026-11-27T08:00", "reminders": [{"before_due_minutes": 120}]}),
        ),
        (
            "remind me to stretch every day at 9am",
            json!({"title": "stretch", "recurrence": {"rrule": "FREQ=DAILY;BYHOUR=9;BYMINUTE=0", "anchor": "due"},
                   "reminders": [{"before_due_minutes": 0}]}),
        ),
        // Words that only look like recurrence or times stay in the title.
        ("add everyone's gifts", json!({"title": "everyone's gifts"})),
        ("add evening walk", json!({"title": "evening walk"})),
    ];
    for (text, args) in cases {
        assert_call(text, "add_task", args);
    }
    assert_call(
        "move 3 to friday at 5pm",
        "update_task",
        json!({"task_id": 3, "due_at": "2026-11-27T17:00"}),
    );
    assert_call(
        "skip 4",
        "complete_task",
        json!({"task_id": 4, "skip": true}),
    );
    assert!(text_for("skip").contains("skip 3"));
}

#[test]
fn recurring_results_say_what_comes_next() {
    let moved = r#"{"task_id": 4, "status": "completed", "title": "gym", "completed": false,
        "due_date": "2026-11-30", "due_at": null, "repeats": "every Monday"}"#;
    let said = answer("done with 4", &[moved]);
    assert_eq!(
        said,
        "Marked \"gym\" (task 4) as done; next due 2026-11-30."
    );
    let skipped = r#"{"task_id": 4, "status": "skipped", "title": "gym", "completed": false,
        "due_date": "2026-12-07", "due_at": null, "repeats": "every Monday"}"#;
    assert_eq!(
        answer("skip 4", &[skipped]),
        "Skipped this one of \"gym\" (task 4); next due 2026-12-07."
    );
    let added = r#"{"task_id": 9, "status": "created", "title": "stretch", "priority": "medium",
        "due_date": "2026-11-26", "due_at": "2026-11-26T09:00:00+01:00", "repeats": "every day at 09:00",
        "reminders": ["2026-11-26T09:00:00+01:00"]}"#;
    assert_eq!(
        answer("remind me to stretch every day at 9am", &[added]),
        "Added \"stretch\" (task 9), due 2026-11-26 09:00, every day at 09:00, reminder at 2026-11-26 09:00."
    );
}

#[test]
fn add_without_a_title_asks() {
    for text in ["add", "add tomorrow", "create urgent", "todo:"] {
        let reply = text_for(text);
        assert!(reply.contains("add call mom"), "{text:?}: {reply}");
    }
}
#[test]
fn list_phrases() {
    let cases = [
        ("list", "pending"),
        ("list tasks", "pending"),
        ("show tasks", "pending"),
        ("Show my tasks please", "pending"),
        ("show pending", "pending"),
        ("what's still open?", "pending"),
        ("What’s still open?", "pending"),
        ("what is left", "pending"),
        ("what do I have to do?", "pending"),
        ("todo", "pending"),
        ("my tasks", "pending"),
        ("show completed", "completed"),
        ("what did I finish", "completed"),
        ("done tasks", "completed"),
        ("show all", "all"),
        ("list everything", "all"),
        ("all tasks", "all"),
    ];
    for (text, status) in cases {
        assert_call(text, "list_tasks", json!({"status": status}));
    }
    assert_call(
        "what do I need to do today",
        "list_tasks",
        json!({"status": "pending", "due": "today"}),
    );
}

#[test]
fn search_phrases() {
    for text in [
        "find milk",
        "search milk",
        "search for milk",
        "find tasks about milk",
    ] {
        assert_call(
            text,
            "list_tasks",
            json!({"status": "all", "query": "milk"}),
        );
    }
    assert_call(
        "search for Oat Milk",
        "list_tasks",
        json!({"status": "all", "query": "Oat Milk"}),
    );
    assert!(text_for("search").contains("find milk"));
}

#[test]
fn complete_phrases_and_number_forms() {
    for text in [
        "complete 3",
        "done with 3",
        "finish 3",
        "mark 3 done",
        "mark 3 as done",
        "check off 3",
        "check 3 off",
        "3 is done",
        "3 done",
        "done 3",
        "complete #3",
        "complete task 3",
        "complete number 3",
        "complete task #3",
        "please complete task 3!",
        "I finished 3",
    ] {
        assert_call(text, "complete_task", json!({"task_id": 3}));
    }
}

#[test]
fn several_numbers_make_several_calls() {
    for text in [
        "complete 3 and 5",
        "done with 3, 5",
        "done with 3,5",
        "finish tasks 3 & 5",
        "complete 3 and 5 and 3",
    ] {
        let reply = reply_to(text);
        let got: Vec<(String, Value)> = reply
            .tool_calls
            .iter()
            .map(|c| {
                (
                    c.name.clone(),
                    serde_json::from_str(&c.arguments).expect("json"),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("complete_task".to_string(), json!({"task_id": 3})),
                ("complete_task".to_string(), json!({"task_id": 5})),
            ],
            "{text}"
        );
    }
    assert_eq!(reply_to("delete 1, 2 and 3").tool_calls.len(), 3);
}

#[test]
fn reopen_phrases() {
    for text in [
        "reopen 3",
        "undo 3",
        "uncomplete 3",
        "mark 3 not done",
        "mark 3 as not done",
        "3 is not done",
    ] {
        assert_call(
            text,
            "complete_task",
            json!({"task_id": 3, "completed": false}),
        );
    }
}

#[test]
fn undo_phrases_undo_the_last_change_and_repeat_what_it_says() {
    for text in [
        "undo",
        "undo that",
        "undo the last change",
        "revert that",
        "oops, undo",
        "Oops, undo that!",
        "roll back that change",
        "please undo my last change",
    ] {
        assert_call(text, "undo_last_change", json!({}));
    }
    // After an answer about one task, "that" is still the last change.
    for text in ["undo that", "undo it", "revert that"] {
        let messages = [
            Message::user("add call mom"),
            Message::assistant("Added “call mom” (task 12)."),
            Message::user(text),
        ];
        let reply = respond(&messages, today());
        let names: Vec<&str> = reply.tool_calls.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["undo_last_change"], "{text}");
    }
    let said = "Undid: added #12 “call mom” (deleted it).";
    let undone = json!({"status": "undone", "message": said, "task_ids": [12]}).to_string();
    assert_eq!(answer("undo", &[&undone]), said);
    let more = "There is nothing more to undo: the last change was already undone.";
    let nothing = json!({"status": "nothing_to_undo", "message": more}).to_string();
    assert_eq!(answer("undo that", &[&nothing]), more);
    let refused = json!({"error": "#3 “x” has changed since"}).to_string();
    assert_eq!(
        answer("revert that", &[&refused]),
        "I couldn't do that: #3 “x” has changed since."
    );
}

#[test]
fn update_phrases() {
    let cases = [
        (
            "rename 3 to buy oat milk",
            json!({"task_id": 3, "title": "buy oat milk"}),
        ),
        (
            "rename task #3 to Buy Oat Milk",
            json!({"task_id": 3, "title": "Buy Oat Milk"}),
        ),
        (
            "change 3 to buy oat milk",
            json!({"task_id": 3, "title": "buy oat milk"}),
        ),
        (
            "set 3 priority high",
            json!({"task_id": 3, "priority": "high"}),
        ),
        (
            "set 3 to low priority",
            json!({"task_id": 3, "priority": "low"}),
        ),
        (
            "make 3 high priority",
            json!({"task_id": 3, "priority": "high"}),
        ),
        ("make 3 urgent", json!({"task_id": 3, "priority": "urgent"})),
        (
            "mark 3 as urgent",
            json!({"task_id": 3, "priority": "urgent"}),
        ),
        ("prioritize 3", json!({"task_id": 3, "priority": "high"})),
        (
            "set the priority of task 3 to high",
            json!({"task_id": 3, "priority": "high"}),
        ),
    ];
    for (text, args) in cases {
        assert_call(text, "update_task", args);
    }
    // A new day keeps the task's time of day: it is looked up first.
    let dated = [
        (
            "move 3 to friday",
            json!({"task_id": 3, "due_date": "2026-11-27"}),
        ),
        (
            "3 due tomorrow",
            json!({"task_id": 3, "due_date": "2026-11-26"}),
        ),
        (
            "push 3 to 2026-12-01",
            json!({"task_id": 3, "due_date": "2026-12-01"}),
        ),
        (
            "change 3 to next monday",
            json!({"task_id": 3, "due_date": "2026-11-30"}),
        ),
        (
            "reschedule 3 for in 2 days",
            json!({"task_id": 3, "due_date": "2026-11-27"}),
        ),
        (
            "change the due date of 3 to friday",
            json!({"task_id": 3, "due_date": "2026-11-27"}),
        ),
        (
            "move 3 to friday, high priority",
            json!({"task_id": 3, "due_date": "2026-11-27", "priority": "high"}),
        ),
    ];
    let task_3 = r#"{"tasks": [{"id": 3, "title": "call mom", "priority": "medium"}]}"#;
    for (text, args) in dated {
        assert_eq!(
            only_call(&after_lookup(text, task_3)),
            ("update_task".to_string(), args),
            "{text}"
        );
    }
    let timed = r#"{"tasks": [{"id": 3, "title": "call mom", "due": "2026-11-26T08:30"}]}"#;
    // Older results: due_at with seconds and the user's offset.
    let with_offset = r#"[{"id": 3, "title": "call mom", "due_date": "2026-11-26",
        "due_at": "2026-11-26T08:30:00+01:00"}]"#;
    assert_eq!(
        only_call(&after_lookup("move 3 to friday", with_offset)),
        (
            "update_task".to_string(),
            json!({"task_id": 3, "due_at": "2026-11-27T08:30"})
        )
    );
    assert_eq!(
        only_call(&after_lookup("move 3 to friday", timed)),
        (
            "update_task".to_string(),
            json!({"task_id": 3, "due_at": "2026-11-27T08:30"})
        )
    );
    for text in ["move 3 to someday", "update 3", "set 3"] {
        assert!(text_for(text).contains("move 3 to friday"), "{text}");
    }
    assert!(text_for("rename 3").contains("rename 3 to"));
}

#[test]
fn delete_phrases() {
    for text in [
        "delete 3",
        "remove 3",
        "drop task 3",
        "cancel 3",
        "get rid of #3",
    ] {
        assert_call(text, "delete_task", json!({"task_id": 3}));
    }
}

#[test]
fn vague_targets_ask_which_task() {
    for text in [
        "delete it",
        "complete all",
        "complete",
        "reopen",
        "remove them",
    ] {
        let reply = text_for(text);
        assert!(reply.starts_with("Which task?"), "{text:?}: {reply}");
    }
}

#[test]
fn titles_start_with_a_lookup() {
    // The tasks the action applies to, matched here (typos, inflections).
    let cases = [
        ("complete buy milk", "pending"),
        ("done with call mom", "pending"),
        ("buy milk is done", "pending"),
        ("mark buy milk as done", "pending"),
        ("reopen buy milk", "completed"),
        ("delete the milk task", "pending"),
        ("rename buy milk to buy oat milk", "pending"),
        ("move buy milk to friday", "pending"),
        ("make buy milk urgent", "pending"),
    ];
    for (text, status) in cases {
        assert_call(text, "list_tasks", json!({"status": status, "limit": 100}));
    }
}

const TWO_MILKS: &str = r#"[
    {"id": 3, "title": "buy milk", "completed": false, "priority": "medium", "due_at": null, "tags": []},
    {"id": 5, "title": "buy milk and eggs", "completed": false, "priority": "high", "due_at": null, "tags": []}
]"#;

/// Runs a title command through its lookup with `found` as the result.
fn after_lookup(text: &str, found: &str) -> Reply {
    let first = reply_to(text);
    assert_eq!(first.tool_calls[0].name, "list_tasks", "{text}");
    respond(&with_results(text, &first, &[found]), today())
}

fn only_call(reply: &Reply) -> (String, Value) {
    assert_eq!(reply.content, None, "{reply:?}");
    assert_eq!(reply.tool_calls.len(), 1, "{reply:?}");
    let call = &reply.tool_calls[0];
    (
        call.name.clone(),
        serde_json::from_str(&call.arguments).expect("json"),
    )
}

#[test]
fn a_single_match_gets_the_real_call() {
    let one = r#"[{"id": 7, "title": "Buy milk", "completed": false}]"#;
    let cases = [
        ("complete buy milk", "complete_task", json!({"task_id": 7})),
        ("delete the milk task", "delete_task", json!({"task_id": 7})),
        (
            "rename buy milk to buy oat milk",
            "update_task",
            json!({"task_id": 7, "title": "buy oat milk"}),
        ),
        (
            "move buy milk to friday",
            "update_task",
            json!({"task_id": 7, "due_date": "2026-11-27"}),
        ),
    ];
    for (text, name, args) in cases {
        assert_eq!(
            only_call(&after_lookup(text, one)),
            (name.to_string(), args),
            "{text}"
        );
    }
    let done = r#"[{"id": 7, "title": "buy milk", "completed": true}]"#;
    assert_eq!(
        only_call(&after_lookup("reopen buy milk", done)),
        (
            "complete_task".to_string(),
            json!({"task_id": 7, "completed": false})
        )
    );
}

#[test]
fn an_exact_title_beats_longer_ones() {
    assert_eq!(
        only_call(&after_lookup("complete buy milk", TWO_MILKS)),
        ("complete_task".to_string(), json!({"task_id": 3}))
    );
    // Already completed tasks are not candidates for completing.
    let mixed = r#"[{"id": 3, "title": "milk", "completed": true},
                    {"id": 4, "title": "oat milk", "completed": false}]"#;
    assert_eq!(
        only_call(&after_lookup("complete milk", mixed)),
        ("complete_task".to_string(), json!({"task_id": 4}))
    );
}

#[test]
fn no_match_says_so() {
    let reply = after_lookup("delete buy milk", "[]");
    assert_eq!(
        text_of(&reply),
        "I couldn't find a task matching \"buy milk\"."
    );
    let reply = after_lookup("complete buy milk", r#"{"tasks": []}"#);
    assert_eq!(
        text_of(&reply),
        "I couldn't find an open task matching \"buy milk\"."
    );
    let reply = after_lookup("delete buy milk", r#"{"error": "database unavailable"}"#);
    assert_eq!(text_of(&reply), "I couldn't do that: database unavailable.");
}

#[test]
fn several_matches_ask_which() {
    let reply = after_lookup("delete milk", TWO_MILKS);
    assert_eq!(
        text_of(&reply),
        "I found 2 tasks matching \"milk\":\n- #3 buy milk\n- #5 buy milk and eggs\n\
         Which one do you mean? Tell me its number, e.g. \"delete 3\"."
    );
    let reply = after_lookup("rename milk to oat milk", TWO_MILKS);
    assert!(text_of(&reply).ends_with("e.g. \"rename 3 to oat milk\"."));
}

#[test]
fn the_follow_up_happens_once() {
    let text = "complete buy milk";
    let lookup = reply_to(text);
    let mut messages = with_results(text, &lookup, &[r#"[{"id": 7, "title": "buy milk"}]"#]);
    let action = respond(&messages, today());
    assert_eq!(action.tool_calls[0].name, "complete_task");
    let mut asked = Message::assistant("");
    asked.tool_calls = action.tool_calls.clone();
    messages.push(asked);
    messages.push(Message::tool_result(
        action.tool_calls[0].id.clone(),
        r#"{"task_id": 7, "status": "completed", "title": "buy milk"}"#,
    ));
    let done = respond(&messages, today());
    assert_eq!(text_of(&done), "Marked \"buy milk\" (task 7) as done.");
    // Two lookups at most (the open tasks, then a search): after a third
    // round of lookups only text, never another call.
    let mut looping = with_results(text, &lookup, &["[]"]);
    for _ in 0..2 {
        let mut again = Message::assistant("");
        again.tool_calls = lookup.tool_calls.clone();
        looping.push(again);
        looping.push(Message::tool_result(
            lookup.tool_calls[0].id.clone(),
            TWO_MILKS,
        ));
    }
    assert!(respond(&looping, today()).tool_calls.is_empty());
}

#[test]
fn final_texts() {
    assert_eq!(
        answer(
            "add call mom tomorrow, high priority",
            &[
                r#"{"task_id": 12, "status": "created", "title": "call mom", "due_date": "2026-11-26", "due_at": null, "priority": "high"}"#
            ]
        ),
        "Added \"call mom\" (task 12), due 2026-11-26, high priority."
    );
    assert_eq!(
        answer(
            "add call mom",
            &[
                r#"{"task_id": 12, "status": "created", "title": "call mom", "priority": "medium", "due_at": null}"#
            ]
        ),
        "Added \"call mom\" (task 12)."
    );
    assert_eq!(
        answer(
            "add call mom #family",
            &[r#"{"task_id": 12, "status": "created", "title": "call mom", "tags": ["family"]}"#]
        ),
        "Added \"call mom\" (task 12), tagged #family."
    );
    assert_eq!(
        answer(
            "complete 3",
            &[r#"{"task_id": 3, "status": "completed", "title": "call mom"}"#]
        ),
        "Marked \"call mom\" (task 3) as done."
    );
    assert_eq!(
        answer(
            "reopen 3",
            &[r#"{"task_id": 3, "status": "updated", "title": "call mom", "completed": false}"#]
        ),
        "Reopened \"call mom\" (task 3)."
    );
    assert_eq!(
        answer(
            "rename 3 to buy oat milk",
            &[
                r#"{"task_id": 3, "status": "updated", "title": "buy oat milk", "priority": "high"}"#
            ]
        ),
        "Updated task 3: \"buy oat milk\"."
    );
    assert_eq!(
        answer(
            "move 3 to friday at 5pm",
            &[
                r#"{"task_id": 3, "status": "updated", "title": "call mom", "due_date": "2026-11-27", "due_at": null}"#
            ]
        ),
        "Updated task 3: \"call mom\", due 2026-11-27."
    );
    assert_eq!(
        answer(
            "delete 3",
            &[r#"{"task_id": 3, "status": "deleted", "title": "call mom"}"#]
        ),
        "Deleted \"call mom\" (task 3)."
    );
    assert_eq!(
        answer("delete 42", &[r#"{"error": "task 42 not found"}"#]),
        "I couldn't do that: task 42 not found."
    );
    assert_eq!(
        answer(
            "complete 3 and 42",
            &[
                r#"{"task_id": 3, "status": "completed"}"#,
                r#"{"error": {"message": "task 42 not found."}}"#
            ]
        ),
        "Marked task 3 as done.\nI couldn't do that: task 42 not found."
    );
}

#[test]
fn list_texts() {
    let open = r#"[
        {"id": 3, "title": "call mom", "completed": false, "priority": "high", "due_date": "2026-11-26", "due_at": null, "tags": []},
        {"id": 5, "title": "buy milk", "completed": false, "priority": "medium", "due_at": null, "tags": []}
    ]"#;
    assert_eq!(
        answer("show my tasks", &[open]),
        "You have 2 open tasks:\n- #3 call mom (due 2026-11-26, high)\n- #5 buy milk"
    );
    assert_eq!(answer("what's left", &["[]"]), "You have no open tasks.");
    assert_eq!(
        answer("show completed", &["[]"]),
        "You have no completed tasks."
    );
    assert_eq!(answer("show all", &["[]"]), "You have no tasks.");
    assert_eq!(
        answer(
            "show completed",
            &[r#"[{"id": 1, "title": "taxes", "completed": true}]"#]
        ),
        "You have 1 completed task:\n- #1 taxes"
    );
    assert_eq!(
        answer(
            "show all",
            &[r#"[{"id": 1, "title": "taxes", "completed": true, "priority": "low"}]"#]
        ),
        "You have 1 task:\n- #1 taxes (done, low)"
    );
    assert_eq!(
        answer("find milk", &[r#"[{"id": 5, "title": "buy milk"}]"#]),
        "1 task matches \"milk\":\n- #5 buy milk"
    );
    assert_eq!(answer("find milk", &["[]"]), "No tasks match \"milk\".");
    let many: Vec<Value> = (1..=60)
        .map(|i| json!({"id": i, "title": format!("t{i}")}))
        .collect();
    let many = Value::from(many).to_string();
    let listed = answer("list", &[&many]);
    assert!(listed.starts_with("You have 60 open tasks; the 50 due soonest:\n- #1 t1\n"));
    assert!(listed.ends_with("- #50 t50\n...and 10 more."));
}

#[test]
fn list_texts_say_the_true_totals_of_a_bounded_page() {
    // list_tasks' own shape: compact rows, and counts of every match.
    let page = json!({
        "matching": 1000, "shown": 2, "open": 1000, "overdue": 3, "due_today": 2,
        "tasks": [
            {"id": 7, "title": "pay rent", "priority": "urgent", "due": "2026-12-05"},
            {"id": 9, "title": "call mom", "priority": "medium", "due": "2026-12-07T18:00", "tags": ["family"]}
        ],
        "next_cursor": "abc"
    })
    .to_string();
    assert_eq!(
        answer("what's still open?", &[&page]),
        "You have 1,000 open tasks (3 overdue, 2 due today); the 2 due soonest:\n\
         - #7 pay rent (due 2026-12-05, urgent)\n\
         - #9 call mom (due 2026-12-07 18:00)\n\
         ...and 998 more."
    );
    let done = json!({"matching": 1, "tasks": [{"id": 2, "title": "taxes", "priority": "low", "done": true}]})
        .to_string();
    assert_eq!(
        answer("show all", &[&done]),
        "You have 1 task:\n- #2 taxes (done, low)"
    );
}

#[test]
fn small_talk_and_gibberish_get_help() {
    for text in [
        "",
        "   ",
        "hello",
        "help",
        "what can you do?",
        "asdf qwer",
        "tell me a story",
        "show me something funny",
        "🙂",
        "?!",
    ] {
        let reply = text_for(text);
        assert!(reply.contains("add call mom tomorrow"), "{text:?}: {reply}");
        assert!(reply.contains("complete 3"), "{text:?}: {reply}");
    }
    assert!(text_for("hi").starts_with("Hi! "));
    assert!(text_for("Good morning!").starts_with("Hi! "));
    assert!(text_for("asdf").starts_with("Sorry"));
    assert_eq!(text_for("thanks!"), "You're welcome!");
}

#[test]
fn garbage_never_panics() {
    let day = today();
    // No messages, no user message, only tool results.
    assert!(respond(&[], day).content.is_some());
    assert!(
        respond(&[Message::system("x"), Message::assistant("y")], day)
            .content
            .is_some()
    );
    let orphan = Message::tool_result("nope", "not json at all");
    assert_eq!(
        text_of(&respond(
            &[Message::user("complete 3"), orphan.clone()],
            day
        )),
        "The tool answered: not json at all"
    );
    // Results that are not what the tools return.
    for result in [
        "",
        "null",
        "42",
        "\"ok\"",
        "[1, 2]",
        "{}",
        "{\"status\": 5}",
        "[{\"id\": \"x\"}]",
        "{\"error\": null}",
        "{\"tasks\": 3}",
        "\u{0}\u{1}",
        "{\"task_id\": 1e400}",
    ] {
        for user in [
            "complete 3",
            "complete buy milk",
            "show tasks",
            "add x",
            "reopen milk",
            "hi",
        ] {
            let first = reply_to(user);
            let reply = respond(&with_results(user, &first, &[result]), day);
            assert!(
                reply.content.is_some() || !reply.tool_calls.is_empty(),
                "{user} / {result}"
            );
            let reply = respond(
                &[Message::user(user), Message::tool_result("", result)],
                day,
            );
            assert!(
                reply.content.is_some() || !reply.tool_calls.is_empty(),
                "{user} / {result}"
            );
        }
    }
    // Odd inputs for the parser.
    let long = "add ".to_string() + &"ж".repeat(10_000);
    for text in [
        "todo:",
        "todo:é",
        "#",
        "# # #",
        "add #",
        "complete #",
        "complete 0",
        "complete -3",
        "complete 99999999999999999999999",
        "rename to to to",
        "change to",
        "move",
        "set priority of to high",
        "mark",
        "mark as done",
        "3",
        "3 3 3",
        "in 3 days",
        "add in",
        "add x in days",
        "add x feb 30",
        "add x 31 february 2027",
        "’’’",
        "\"\"",
        "add \"",
        "add “”",
        long.as_str(),
        "\u{202e}add x",
        "add\tx\ny",
        "ＡＤＤ x",
    ] {
        let reply = reply_to(text);
        assert!(
            reply.content.is_some() || !reply.tool_calls.is_empty(),
            "{text:?}"
        );
        for call in &reply.tool_calls {
            serde_json::from_str::<Value>(&call.arguments).expect("arguments are JSON");
        }
    }
}

#[test]
fn a_task_beyond_the_first_page_is_searched_for_by_its_words() {
    let user = "I called mom";
    let first = reply_to(user);
    assert_eq!(first.tool_calls[0].name, "list_tasks", "{first:?}");
    // 100 open tasks, none of them the one, and more after them.
    let page = json!({
        "tasks": (1..=100).map(|i| json!({"id": i, "title": format!("errand {i}")})).collect::<Vec<_>>(),
        "matching": 150, "next_cursor": "more"
    })
    .to_string();
    let mut messages = with_results(user, &first, &[&page]);
    let second = respond(&messages, today());
    assert_eq!(second.tool_calls.len(), 1, "{second:?}");
    let (name, args): (String, Value) = (
        second.tool_calls[0].name.clone(),
        serde_json::from_str(&second.tool_calls[0].arguments).unwrap(),
    );
    assert_eq!(name, "list_tasks");
    assert_eq!(args["query"], "call", "{args}");

    // The search finds it: it is done, with no third lookup.
    let mut asked = Message::assistant("");
    asked.tool_calls = second.tool_calls.clone();
    messages.push(asked);
    let found =
        json!({"tasks": [{"id": 131, "title": "Call mom"}], "matching": 1, "next_cursor": null})
            .to_string();
    messages.push(Message::tool_result(second.tool_calls[0].id.clone(), found));
    let third = respond(&messages, today());
    assert_eq!(third.tool_calls.len(), 1, "{third:?}");
    assert_eq!(third.tool_calls[0].name, "complete_task");
    let args: Value = serde_json::from_str(&third.tool_calls[0].arguments).unwrap();
    assert_eq!(args["task_id"], 131);

    // Found nowhere: said so, once.
    let mut messages = with_results(user, &first, &[&page]);
    let mut asked = Message::assistant("");
    asked.tool_calls = second.tool_calls.clone();
    messages.push(asked);
    let none = json!({"tasks": [], "matching": 0, "next_cursor": null}).to_string();
    messages.push(Message::tool_result(second.tool_calls[0].id.clone(), none));
    let reply = respond(&messages, today());
    assert!(text_of(&reply).contains("couldn't find"), "{reply:?}");
}

/// The reply to `text` when the assistant's last answer was `answer`.
fn reply_after(answer: &str, text: &str) -> Reply {
    respond(
        &[
            Message::user("earlier"),
            Message::assistant(answer),
            Message::user(text),
        ],
        today(),
    )
}

#[test]
fn it_is_the_task_the_last_answer_named() {
    let added = "Added \"call mom\" (task 12), due 2026-11-26.";
    for (text, name, args) in [
        ("mark it done", "complete_task", json!({"task_id": 12})),
        ("it's done", "complete_task", json!({"task_id": 12})),
        ("I did it", "complete_task", json!({"task_id": 12})),
        ("delete that", "delete_task", json!({"task_id": 12})),
        (
            "skip this one",
            "complete_task",
            json!({"task_id": 12, "skip": true}),
        ),
        (
            "make it high priority",
            "update_task",
            json!({"task_id": 12, "priority": "high"}),
        ),
        (
            "rename it to call dad",
            "update_task",
            json!({"task_id": 12, "title": "call dad"}),
        ),
        (
            "remove its due date",
            "update_task",
            json!({"task_id": 12, "due_date": null}),
        ),
    ] {
        let reply = reply_after(added, text);
        assert_eq!(only_call(&reply), (name.to_string(), args), "{text}");
    }
    // A new day keeps the task's time: looked up first, as by number.
    let reply = reply_after(added, "move it to friday");
    let mut messages = vec![
        Message::assistant(added),
        Message::user("move it to friday"),
    ];
    let mut asked = Message::assistant("");
    asked.tool_calls = reply.tool_calls.clone();
    messages.push(asked);
    messages.push(Message::tool_result(
        reply.tool_calls[0].id.clone(),
        r#"[{"id": 12, "title": "call mom", "due": "2026-11-26T18:00"}]"#,
    ));
    assert_eq!(
        only_call(&respond(&messages, today())),
        (
            "update_task".to_string(),
            json!({"task_id": 12, "due_at": "2026-11-27T18:00"})
        )
    );
}

#[test]
fn it_is_never_guessed() {
    for answer in [
        "Marked \"a\" (task 3) as done.\nMarked \"b\" (task 5) as done.",
        "You have no open tasks.",
        "I couldn't find an open task matching \"gym\".",
    ] {
        for text in ["delete it", "move it to friday", "mark that done"] {
            let reply = text_of(&reply_after(answer, text)).to_string();
            assert!(
                reply.starts_with("Which task?"),
                "{answer} / {text}: {reply}"
            );
        }
    }
    // With nothing before it at all.
    assert!(text_for("skip this one").starts_with("Which task?"));
    // A pronoun inside a new task's title is a word of it.
    let reply = reply_after("Added \"call mom\" (task 12).", "add fix it felix");
    assert_eq!(
        only_call(&reply),
        ("add_task".to_string(), json!({"title": "fix it felix"}))
    );
}

/// The tool's refusal to delete repeating task `id` without a scope.
fn scope_refusal(id: i64, title: &str) -> String {
    json!({"error": format!(
        "scope: task {id} (\"{title}\") repeats: skip just this occurrence, or delete the whole series (scope \"series\")?"
    )})
    .to_string()
}

#[test]
fn a_repeating_task_deleted_without_a_scope_asks_which() {
    let asked = answer("delete 4", &[&scope_refusal(4, "Gym")]);
    assert_eq!(
        asked,
        "\"Gym\" (task 4) repeats. Delete only this occurrence (skip to the next) or the \
         whole series? Say \"delete 4, just this one\" or \"delete 4, whole series\"."
    );
    // What else was done is said first; several repeating tasks, one question.
    let asked = answer(
        "delete 3, 4 and 9",
        &[
            r#"{"task_id": 3, "status": "deleted", "title": "milk"}"#,
            &scope_refusal(4, "Gym"),
            &scope_refusal(9, "Yoga"),
        ],
    );
    assert_eq!(
        asked,
        "Deleted \"milk\" (task 3).\n\"Gym\" (task 4) and \"Yoga\" (task 9) repeat. Delete \
         only this occurrence (skip to the next) or the whole series? Say \"delete 4 and 9, \
         just this one\" or \"delete 4 and 9, whole series\"."
    );
    // Other refusals are passed on as they are.
    assert_eq!(
        answer("delete 4", &[r#"{"error": "task 4 not found"}"#]),
        "I couldn't do that: task 4 not found."
    );
}

#[test]
fn the_scope_question_says_the_rule_a_lookup_found() {
    let user = "delete the gym";
    let lookup = reply_to(user);
    let mut messages = with_results(
        user,
        &lookup,
        &[r#"[{"id": 4, "title": "Gym", "repeats": "every Monday"}]"#],
    );
    let delete = respond(&messages, today());
    assert_eq!(
        only_call(&delete),
        ("delete_task".into(), json!({"task_id": 4}))
    );
    let mut asked = Message::assistant("");
    asked.tool_calls = delete.tool_calls.clone();
    messages.push(asked);
    messages.push(Message::tool_result(
        delete.tool_calls[0].id.clone(),
        scope_refusal(4, "Gym"),
    ));
    let question = text_of(&respond(&messages, today())).to_string();
    assert!(
        question.starts_with("\"Gym\" (task 4) repeats every Monday. Delete only"),
        "{question}"
    );

    // The next message answers it, or is a message of its own.
    for (answer, args) in [
        ("the whole series", json!({"task_id": 4, "scope": "series"})),
        ("all of them", json!({"task_id": 4, "scope": "series"})),
        (
            "just this one",
            json!({"task_id": 4, "scope": "occurrence"}),
        ),
        ("just today's", json!({"task_id": 4, "scope": "occurrence"})),
        ("delete 7", json!({"task_id": 7})),
    ] {
        let reply = reply_after(&question, answer);
        assert_eq!(only_call(&reply), ("delete_task".into(), args), "{answer}");
    }
}

#[test]
fn a_delete_may_say_its_scope() {
    for (text, args) in [
        (
            "delete 4, whole series",
            json!({"task_id": 4, "scope": "series"}),
        ),
        (
            "delete the whole series of 4",
            json!({"task_id": 4, "scope": "series"}),
        ),
        (
            "delete 4, just this one",
            json!({"task_id": 4, "scope": "occurrence"}),
        ),
    ] {
        assert_call(text, "delete_task", args);
    }
    let one = r#"[{"id": 4, "title": "gym", "repeats": "every Monday"}]"#;
    for (text, scope) in [
        ("delete the whole gym series", "series"),
        ("delete just this gym", "occurrence"),
    ] {
        assert_eq!(
            only_call(&after_lookup(text, one)),
            ("delete_task".into(), json!({"task_id": 4, "scope": scope})),
            "{text}"
        );
    }
}

#[test]
fn deleting_everything_asks_first_and_a_yes_deletes_exactly_those() {
    let open = r#"{"tasks": [
        {"id": 1, "title": "Call mom"},
        {"id": 4, "title": "Gym", "repeats": "every Monday"},
        {"id": 7, "title": "Buy milk"}
    ], "matching": 3, "next_cursor": null}"#;
    for text in [
        "delete everything",
        "delete all my tasks",
        "clear my list",
        "remove all",
    ] {
        assert_call(
            text,
            "list_tasks",
            json!({"status": "pending", "limit": 100}),
        );
        let question = text_of(&after_lookup(text, open)).to_string();
        assert_eq!(
            question,
            "Delete all 3 open tasks (#1, #4, #7)? Repeating ones go with their whole series. \
             Say \"yes\" to delete them, or \"no\".",
            "{text}"
        );
    }
    let question = text_of(&after_lookup("delete everything", open)).to_string();
    let yes = reply_after(&question, "yes");
    let deleted: Vec<(String, Value)> = yes
        .tool_calls
        .iter()
        .map(|c| (c.name.clone(), serde_json::from_str(&c.arguments).unwrap()))
        .collect();
    let series = |id: i64| {
        (
            "delete_task".to_string(),
            json!({"task_id": id, "scope": "series"}),
        )
    };
    assert_eq!(deleted, vec![series(1), series(4), series(7)]);
    for no in ["no", "cancel", "never mind"] {
        assert_eq!(
            text_of(&reply_after(&question, no)),
            "OK, I left your tasks as they are.",
            "{no}"
        );
    }
    // Not a yes or a no: a message of its own.
    assert_eq!(
        only_call(&reply_after(&question, "complete 7")),
        ("complete_task".into(), json!({"task_id": 7}))
    );
}

#[test]
fn deleting_everything_says_how_many_it_can_and_when_there_are_none() {
    let page = json!({
        "tasks": (1..=100).map(|i| json!({"id": i, "title": format!("errand {i}")})).collect::<Vec<_>>(),
        "matching": 150, "next_cursor": "more"
    })
    .to_string();
    let question = text_of(&after_lookup("delete everything", &page)).to_string();
    assert!(
        question.starts_with("Delete 100 of your 150 open tasks (#1, #2,"),
        "{question}"
    );
    assert_eq!(reply_after(&question, "yes").tool_calls.len(), 100);
    let none = r#"{"tasks": [], "matching": 0, "next_cursor": null}"#;
    assert_eq!(
        text_of(&after_lookup("delete everything", none)),
        "You have no open tasks to delete."
    );
    // "them" names no tasks in particular: which ones?
    for text in ["delete them", "delete the tasks", "delete all of them"] {
        assert!(text_for(text).starts_with("Which task?"), "{text}");
    }
}

#[test]
fn a_yes_with_nothing_asked_does_nothing() {
    for answer in ["Added \"call mom\" (task 12).", "You have no open tasks."] {
        for yes in ["yes", "go ahead", "do it", "sure"] {
            let reply = text_of(&reply_after(answer, yes)).to_string();
            assert!(
                reply.starts_with("Nothing I asked needs a yes or no."),
                "{yes}: {reply}"
            );
        }
        assert_eq!(
            text_of(&reply_after(answer, "no")),
            "OK, I left your tasks as they are."
        );
    }
    assert!(text_for("yes").starts_with("Nothing I asked"));
}

#[test]
fn everything_overdue_moves_each_keeping_its_time_of_day() {
    let user = "reschedule everything overdue to tomorrow";
    let first = reply_to(user);
    let names: Vec<&str> = first.tool_calls.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["list_tasks"]);
    let overdue = json!({"tasks": [
        {"id": 4, "title": "Call mom", "due": "2026-12-05T18:30"},
        {"id": 9, "title": "Pay bill", "due": "2026-12-01"}
    ], "matching": 2})
    .to_string();
    let second = respond(&with_results(user, &first, &[&overdue]), today());
    let moved: Vec<Value> = second
        .tool_calls
        .iter()
        .map(|c| serde_json::from_str(&c.arguments).unwrap())
        .collect();
    assert_eq!(
        moved,
        [
            json!({"task_id": 4, "due_at": "2026-11-26T18:30"}),
            json!({"task_id": 9, "due_date": "2026-11-26"}),
        ]
    );
    let none = json!({"tasks": [], "matching": 0}).to_string();
    let reply = respond(&with_results(user, &first, &[&none]), today());
    assert!(reply.tool_calls.is_empty());
    assert!(text_of(&reply).contains("Nothing is overdue"), "{reply:?}");
    // Not a task named "overdue": nothing else is read as this.
    assert_call(
        "move the overdue report to friday",
        "list_tasks",
        json!({"status": "pending", "limit": 100}),
    );
}
