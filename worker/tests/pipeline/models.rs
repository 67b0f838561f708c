//! Real models, as mock-openai imitates them (issue 11): answers bounded by
//! the output limit whatever field the server reads, streams that stall or
//! start late, tool arguments in many pieces. What the user notices: the
//! turn completes, a cut answer says so, nothing shows or happens twice.

use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::{EventStream, Mock, TestApp, TestUser, start_mock};

const CUT_NOTE: &str = "My answer was cut short";

async fn task_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM tasks")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// A completed turn's answer, checked to be a normal (not failed) reply.
async fn answered(app: &TestApp, user: &TestUser, text: &str) -> Value {
    answered_in(app, user, text, None).await
}

/// The same, in a given conversation (None: a new one).
async fn answered_in(
    app: &TestApp,
    user: &TestUser,
    text: &str,
    conversation: Option<&str>,
) -> Value {
    let (status, turn) = app.chat(user, text, conversation, Some(60)).await;
    assert_eq!(status, StatusCode::OK, "{turn}");
    assert_eq!(turn["status"], "completed", "{turn}");
    turn
}

/// The text the model wrote, without the note the worker adds.
fn written(turn: &Value) -> String {
    let response = turn["response"].as_str().unwrap();
    let (text, note) = response.rsplit_once("\n\n").expect("text, then the note");
    assert!(note.contains(CUT_NOTE), "{response}");
    text.to_string()
}

#[tokio::test]
async fn a_rambling_answer_ends_at_the_limit_and_says_it_was_cut() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    mock.configure(json!({"behaviour": "ramble"})).await;
    let worker = app
        .spawn_worker(Some(&mock), &[("OPENAI_MAX_OUTPUT_TOKENS", "40")])
        .await;
    let user = app.signup("ramble@example.com").await;

    let turn = answered(&app, &user, "tell me everything").await;
    // 40 tokens of the mock's four characters: the server cut it there.
    assert_eq!(written(&turn).chars().count(), 160, "{turn}");
    assert_eq!(turn["metadata"]["truncated"], true, "{turn}");
    let stats = mock.stats().await;
    assert_eq!(stats["requests"], 1, "a cut answer is not retried");
    // Not OpenAI: the limit goes in the field every local server reads.
    assert_eq!(stats["last_request"]["max_tokens"], 40);
    assert!(stats["last_request"].get("max_completion_tokens").is_none());

    // The conversation goes on normally afterwards.
    mock.configure(json!({})).await;
    let conversation = turn["conversation_id"].as_str().unwrap();
    let (_, next) = app
        .chat(&user, "add buy milk", Some(conversation), Some(60))
        .await;
    assert_eq!(next["status"], "completed", "{next}");
    assert!(!next["response"].as_str().unwrap().contains(CUT_NOTE));
    worker.stop().await;
}

/// One turn against a rambling server that reads `reads`, from a worker
/// sending the limit in `field` (None: the default choice).
async fn ramble_turn(
    app: &TestApp,
    mock: &Mock,
    user: &TestUser,
    reads: &str,
    field: Option<&str>,
) -> String {
    mock.configure(json!({"behaviour": "ramble", "reads_limit_from": reads}))
        .await;
    let mut vars = vec![("OPENAI_MAX_OUTPUT_TOKENS", "20")];
    if let Some(field) = field {
        vars.push(("OPENAI_MAX_TOKENS_FIELD", field));
    }
    let worker = app.spawn_worker(Some(mock), &vars).await;
    let turn = answered(app, user, "tell me everything").await;
    worker.stop().await;
    assert_eq!(turn["metadata"]["truncated"], true, "{turn}");
    written(&turn)
}

#[tokio::test]
async fn answers_stay_bounded_whichever_limit_field_the_server_reads() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    let user = app.signup("fields@example.com").await;

    // Ollama-like (reads max_tokens only): honoured at once.
    let text = ramble_turn(&app, &mock, &user, "max_tokens", None).await;
    assert_eq!(text.chars().count(), 80);
    // A server that reads only max_completion_tokens ignores what the
    // default sends and rambles on (16k tokens); the worker stops reading
    // at twice the limit's worth and keeps what came.
    let text = ramble_turn(&app, &mock, &user, "max_completion_tokens", None).await;
    let length = text.chars().count();
    assert!((160..400).contains(&length), "cut by the worker: {length}");
    // Told which field that server reads, the server cuts it exactly.
    let field = Some("max_completion_tokens");
    let text = ramble_turn(&app, &mock, &user, "max_completion_tokens", field).await;
    assert_eq!(text.chars().count(), 80);
    // And the reverse: max_completion_tokens sent to a max_tokens reader.
    let text = ramble_turn(&app, &mock, &user, "max_tokens", field).await;
    assert!((160..400).contains(&text.chars().count()));

    assert_eq!(
        mock.stats().await["requests"],
        4,
        "every cut answer was final, none retried"
    );
}

#[tokio::test]
async fn a_tool_call_cut_by_the_limit_changes_nothing_and_says_so() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    let worker = app
        .spawn_worker(Some(&mock), &[("OPENAI_MAX_OUTPUT_TOKENS", "4")])
        .await;
    let user = app.signup("cut-call@example.com").await;

    let turn = answered(&app, &user, "add buy milk and bread, high priority").await;
    let response = turn["response"].as_str().unwrap();
    assert!(response.contains(CUT_NOTE), "{response}");
    assert!(response.contains("nothing was changed"), "{response}");
    assert_eq!(turn["tool_calls"], json!([]), "the broken call never ran");
    assert_eq!(turn["metadata"]["truncated"], true);
    assert_eq!(task_count(&app).await, 0);
    assert_eq!(mock.stats().await["requests"], 1);
    worker.stop().await;
}

#[tokio::test]
async fn tool_arguments_streamed_a_character_at_a_time_take_effect() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    mock.configure(json!({"tool_args_chunk_chars": 1})).await;
    let worker = app.spawn_worker(Some(&mock), &[]).await;
    let user = app.signup("split-args@example.com").await;

    let turn = answered(&app, &user, "add call mom tomorrow, high priority").await;
    assert_eq!(turn["tool_calls"][0]["name"], "add_task", "{turn}");
    let (_, tasks) = app.list_tasks(&user, "").await;
    assert_eq!(tasks["tasks"][0]["title"], "call mom", "{tasks}");
    assert_eq!(tasks["tasks"][0]["priority"], "high");
    assert!(!tasks["tasks"][0]["due_date"].is_null());
    worker.stop().await;
}

#[tokio::test]
async fn a_stalled_stream_is_retried_and_the_restart_is_announced_so_no_text_shows_twice() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    mock.configure(json!({"behaviour": "plain_text"})).await;
    // The first answer streams its role and first word, then stalls.
    mock.fail(json!({"stall_after_chunks": 2})).await;
    let worker = app
        .spawn_worker(Some(&mock), &[("OPENAI_IDLE_TIMEOUT_SECONDS", "1")])
        .await;
    let user = app.signup("stall@example.com").await;
    let mut stream = EventStream::open(&app, &user, "", None).await;

    let turn = answered(&app, &user, "note this").await;
    assert_eq!(turn["response"], "Sure, noted.");
    assert_eq!(mock.stats().await["requests"], 2, "stalled once, retried");

    // What a live client saw: the first word, the restart, the whole answer.
    let mut sequence = Vec::new();
    let mut draft = String::new();
    loop {
        let m = stream.next().await;
        match m.event.as_str() {
            "message.delta" => {
                let delta = m.data["delta"].as_str().unwrap();
                draft.push_str(delta);
                sequence.push(format!("delta:{delta}"));
            }
            "message.restarted" => {
                assert!(m.id.is_none(), "transient, like the deltas");
                assert_eq!(m.data["message_id"], turn["message_id"]);
                draft.clear();
                sequence.push("restarted".into());
            }
            "message.completed" => {
                assert_eq!(m.data["message"]["content"], "Sure, noted.");
                break;
            }
            _ => {}
        }
    }
    let restart = sequence
        .iter()
        .position(|s| s == "restarted")
        .unwrap_or_else(|| panic!("no restart announced: {sequence:?}"));
    assert_eq!(
        sequence[..restart].concat(),
        "delta:Sure,",
        "only the stalled attempt's text came before the restart: {sequence:?}"
    );
    assert_eq!(
        draft, "Sure, noted.",
        "dropping the draft at the restart leaves the answer once: {sequence:?}"
    );
    worker.stop().await;
}

#[tokio::test]
async fn a_first_byte_that_comes_late_is_cut_and_retried() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    // No answer at all for 5 s; then headers but no first chunk.
    mock.fail(json!({"hang_ms": 5000})).await;
    mock.fail(json!({"stall_after_chunks": 0})).await;
    let worker = app
        .spawn_worker(Some(&mock), &[("OPENAI_FIRST_BYTE_TIMEOUT_SECONDS", "1")])
        .await;
    let user = app.signup("late@example.com").await;

    let turn = answered(&app, &user, "add water the plants").await;
    assert_eq!(turn["tool_calls"][0]["name"], "add_task", "{turn}");
    assert_eq!(task_count(&app).await, 1, "added once");
    // Two cut attempts, then the tool round and the answer.
    assert_eq!(mock.stats().await["requests"], 4);
    worker.stop().await;
}

#[tokio::test]
async fn a_model_that_keeps_streaming_is_only_stopped_by_the_ceiling() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    // A slow writer: a word every 300 ms, for longer than the first-byte
    // and idle timeouts together, and some 60 words in all.
    mock.configure(json!({"behaviour": "ramble", "chunk_delay_ms": 300}))
        .await;
    let worker = app
        .spawn_worker(
            Some(&mock),
            &[
                ("OPENAI_MAX_OUTPUT_TOKENS", "15"),
                ("OPENAI_FIRST_BYTE_TIMEOUT_SECONDS", "1"),
                ("OPENAI_IDLE_TIMEOUT_SECONDS", "2"),
            ],
        )
        .await;
    let user = app.signup("steady@example.com").await;
    let turn = answered(&app, &user, "tell me everything").await;
    assert_eq!(written(&turn).chars().count(), 60);
    assert_eq!(
        mock.stats().await["requests"],
        1,
        "never cut, never retried"
    );
    worker.stop().await;

    // The same writer against a 2 s ceiling: cut every time, and the turn
    // fails in plain words once the attempts are used up.
    let worker = app
        .spawn_worker(
            Some(&mock),
            &[
                ("OPENAI_MAX_OUTPUT_TOKENS", "15"),
                ("OPENAI_TIMEOUT_SECONDS", "2"),
                ("OPENAI_MAX_ATTEMPTS", "2"),
            ],
        )
        .await;
    let (_, turn) = app.chat(&user, "tell me more", None, Some(60)).await;
    assert_eq!(turn["status"], "failed", "{turn}");
    assert!(turn["error"].as_str().unwrap().contains("not answering"));
    assert_eq!(mock.stats().await["requests"], 3);
    worker.stop().await;
}

/// A long conversation outgrows a small context window (llama.cpp refuses
/// such a request with a 400). With OPENAI_CONTEXT_TOKENS the oldest history
/// is left out and every turn is answered.
#[tokio::test]
async fn a_long_conversation_keeps_working_in_a_small_context_window() {
    // Room for the system prompt, the tool definitions (larger since issue
    // 21 added due_date, recurrence and reminders, and issue 22 undo) and
    // two notes, not three.
    const WINDOW: &str = "3800";
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    mock.configure(json!({"context_tokens": 3800})).await;
    let user = app.signup("context@example.com").await;
    // ~500 of the mock's tokens each, numbered to be found again.
    let long = |n: usize| format!("note {n}: {}", "la ".repeat(660));
    let limit = ("OPENAI_MAX_OUTPUT_TOKENS", "100");

    // Without a window: the history grows until the server refuses.
    let worker = app.spawn_worker(Some(&mock), &[limit]).await;
    let (_, first) = app.chat(&user, &long(0), None, Some(60)).await;
    assert_eq!(first["status"], "completed", "{first}");
    let conversation = first["conversation_id"].as_str().unwrap().to_string();
    let mut sent = 1;
    let refused = loop {
        assert!(sent < 10, "the mock never refused a growing history");
        let (_, turn) = app
            .chat(&user, &long(sent), Some(&conversation), Some(60))
            .await;
        sent += 1;
        if turn["status"] == "failed" {
            break turn;
        }
        assert_eq!(turn["status"], "completed", "{turn}");
    };
    assert!(
        refused["response"].as_str().unwrap().contains("refused"),
        "{refused}"
    );
    worker.stop().await;

    // With the window given: the same conversation goes on.
    let worker = app
        .spawn_worker(Some(&mock), &[limit, ("OPENAI_CONTEXT_TOKENS", WINDOW)])
        .await;
    for n in sent..sent + 3 {
        let (_, turn) = app
            .chat(&user, &long(n), Some(&conversation), Some(60))
            .await;
        assert_eq!(turn["status"], "completed", "turn {n}: {turn}");
        let request = &mock.stats().await["last_request"];
        let texts: Vec<&str> = request["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["content"].as_str())
            .collect();
        let has = |k: usize| texts.iter().any(|t| t.starts_with(&format!("note {k}:")));
        assert!(has(n), "the current message is always sent");
        assert!(has(n - 1), "the newest history is kept");
        assert!(!has(0), "the oldest is left out");
        assert_eq!(request["messages"][0]["role"], "system");
        assert_eq!(
            request["messages"][1]["role"], "user",
            "history starts with a question"
        );
    }
    worker.stop().await;
}

/// What the worker wrote itself (a wrap-up after too many tool rounds, an
/// answer cut at the limit, a failure notice) goes back to the model as one
/// plain line: a small real model copied the wrap-up's form and claimed
/// changes it never made. The user still reads each in full.
#[tokio::test]
async fn the_workers_own_notices_are_not_fed_back_to_the_model_verbatim() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    let worker = app
        .spawn_worker(
            Some(&mock),
            &[
                ("MAX_TOOL_ROUNDS", "2"),
                ("OPENAI_MAX_OUTPUT_TOKENS", "40"),
                ("OPENAI_MAX_ATTEMPTS", "1"),
            ],
        )
        .await;
    let user = app.signup("notices@example.com").await;

    mock.configure(json!({"behaviour": "loop_tools"})).await;
    let wrapped = answered(&app, &user, "show my tasks").await;
    let shown = wrapped["response"].as_str().unwrap();
    assert!(shown.starts_with("I stopped after 2 rounds"), "{shown}");
    let conversation = wrapped["conversation_id"].as_str().unwrap().to_string();

    mock.configure(json!({"behaviour": "ramble"})).await;
    let (_, cut) = app
        .chat(&user, "tell me a story", Some(&conversation), Some(60))
        .await;
    let rambled = written(&cut);

    mock.configure(json!({})).await;
    mock.fail(json!({"status": 500})).await;
    let (_, failed) = app
        .chat(&user, "add buy milk", Some(&conversation), Some(60))
        .await;
    assert_eq!(failed["status"], "failed", "{failed}");

    let next = answered_in(&app, &user, "what's still open?", Some(&conversation)).await;
    assert_eq!(next["metadata"]["truncated"], Value::Null, "{next}");
    let request = &mock.stats().await["last_request"];
    let mut history: Vec<(String, String)> = request["messages"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1) // the system prompt
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_string(),
                m["content"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    // Only the current message carries the user's clock; the system prompt
    // stays the same at every minute (a prefix a local server caches).
    let system = request["messages"][0]["content"].as_str().unwrap();
    assert!(
        !system.contains(&chrono::Utc::now().format("%Y-%m-").to_string()),
        "{system}"
    );
    let (words, _) = todo_common::llm::read_stamp(&history[6].1).expect("the clock");
    history[6].1 = words.to_string();
    assert!(history[..6].iter().all(|(_, c)| !c.contains("(Sent ")));
    let expected = [
        ("user", "show my tasks"),
        (
            "assistant",
            "(Stopped after too many tool calls; the task list may have changed: look it up.)",
        ),
        ("user", "tell me a story"),
        ("assistant", "(The answer was cut off at the length limit.)"),
        ("user", "add buy milk"),
        ("assistant", "(No answer: this request failed.)"),
        ("user", "what's still open?"),
    ];
    // (After them come this turn's own tool call and result.)
    assert_eq!(
        history
            .iter()
            .take(expected.len())
            .map(|(r, c)| (r.as_str(), c.as_str()))
            .collect::<Vec<_>>(),
        expected,
        "the ramble ({} chars) and the notices stay out",
        rambled.len()
    );
    worker.stop().await;
}

/// A small local model writes its tool call as JSON in the text, which the
/// server passes on as the answer: the call runs, and the user reads an
/// answer, not JSON.
#[tokio::test]
async fn a_tool_call_written_as_text_is_run_not_shown() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    mock.configure(json!({"behaviour": "tool_calls_as_text"}))
        .await;
    let worker = app.spawn_worker(Some(&mock), &[]).await;
    let user = app.signup("text-calls@example.com").await;

    let turn = answered(&app, &user, "add call mom tomorrow, high priority").await;
    assert_eq!(turn["tool_calls"][0]["name"], "add_task", "{turn}");
    assert_eq!(turn["tool_calls"][0]["result"]["status"], "created");
    let response = turn["response"].as_str().unwrap();
    assert!(
        !response.contains("```") && !response.contains("\"name\""),
        "{response}"
    );
    let (_, tasks) = app.list_tasks(&user, "").await;
    assert_eq!(tasks["tasks"][0]["title"], "call mom", "{tasks}");
    assert_eq!(tasks["tasks"][0]["priority"], "high");

    // Plain words stay words.
    let (_, list) = app
        .chat(&user, "thanks", turn["conversation_id"].as_str(), Some(60))
        .await;
    assert_eq!(list["status"], "completed");
    assert_eq!(list["tool_calls"], json!([]));
    worker.stop().await;
}
