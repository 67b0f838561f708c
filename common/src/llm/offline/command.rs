//! What the user asked for, and reading it from their sentence.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::dates::{date_core, ymd};
use super::words::{
    Tok, after_prefix, before_suffix, clean, ends_with, key_in, starts_with, tokenize,
    tokenize_range, words,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Priority {
    Low,
    Medium,
    High,
}

impl Priority {
    fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }

    fn from_level(word: &str) -> Option<Self> {
        match word {
            "high" | "highest" | "top" => Some(Self::High),
            "medium" | "normal" | "mid" => Some(Self::Medium),
            "low" | "lowest" => Some(Self::Low),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    All,
    Pending,
    Completed,
}

impl Status {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Pending => "pending",
            Self::Completed => "completed",
        }
    }
}

/// Which task(s) a command is about: numbers, or a title still to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    Ids(Vec<i64>),
    Title(String),
}

/// Due date, priority and tags picked out of a sentence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Mods {
    due: Option<NaiveDate>,
    priority: Option<Priority>,
    tags: Vec<String>,
}

impl Mods {
    fn is_empty(&self) -> bool {
        self.due.is_none() && self.priority.is_none() && self.tags.is_empty()
    }

    pub(super) fn write_to(&self, args: &mut Map<String, Value>) {
        if let Some(due) = self.due {
            args.insert("due_at".into(), ymd(due).into());
        }
        if let Some(priority) = self.priority {
            args.insert("priority".into(), priority.as_str().into());
        }
        if !self.tags.is_empty() {
            args.insert("tags".into(), self.tags.clone().into());
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Command {
    Add {
        title: String,
        mods: Mods,
    },
    List {
        status: Status,
        query: Option<String>,
    },
    /// `done: false` reopens.
    Complete {
        target: Target,
        done: bool,
    },
    Update {
        target: Target,
        title: Option<String>,
        mods: Mods,
    },
    Delete {
        target: Target,
    },
    /// Nothing to do with tools: answer with this text.
    Say(String),
}

impl Command {
    pub(super) fn target(&self) -> Option<&Target> {
        match self {
            Self::Complete { target, .. }
            | Self::Update { target, .. }
            | Self::Delete { target } => Some(target),
            _ => None,
        }
    }

    pub(super) fn with_ids(&self, ids: Vec<i64>) -> Self {
        let mut command = self.clone();
        if let Self::Complete { target, .. }
        | Self::Update { target, .. }
        | Self::Delete { target } = &mut command
        {
            *target = Target::Ids(ids);
        }
        command
    }

    /// Which tasks a title lookup searches: only those the action can apply to.
    pub(super) fn lookup_status(&self) -> Status {
        match self {
            Self::Complete { done: true, .. } => Status::Pending,
            Self::Complete { done: false, .. } => Status::Completed,
            _ => Status::All,
        }
    }

    /// A command the user could type to pick task `id`, for "which one?".
    pub(super) fn example(&self, id: i64) -> String {
        match self {
            Self::Complete { done: true, .. } => format!("complete {id}"),
            Self::Complete { done: false, .. } => format!("reopen {id}"),
            Self::Delete { .. } => format!("delete {id}"),
            Self::Update { title, mods, .. } => {
                if let Some(title) = title {
                    format!("rename {id} to {title}")
                } else if let Some(due) = mods.due {
                    format!("move {id} to {}", ymd(due))
                } else if let Some(priority) = mods.priority {
                    format!("set {id} priority {}", priority.as_str())
                } else {
                    format!("task {id}")
                }
            }
            _ => format!("task {id}"),
        }
    }
}

// ---------------------------------------------------------------------------
// Reading the user's sentence.

const GREETINGS: &[&str] = &["hi", "hello", "hey", "hiya", "howdy", "yo", "good"];

const LEADING_FILLER: &[&[&str]] = &[
    &["hey", "there"],
    &["hi", "there"],
    &["hello", "there"],
    &["good", "morning"],
    &["good", "afternoon"],
    &["good", "evening"],
    &["can", "you", "please"],
    &["could", "you", "please"],
    &["would", "you", "please"],
    &["can", "you"],
    &["could", "you"],
    &["would", "you"],
    &["will", "you"],
    &["i", "want", "you", "to"],
    &["i'd", "like", "you", "to"],
    &["go", "ahead", "and"],
    &["please"],
    &["pls"],
    &["plz"],
    &["kindly"],
    &["hey"],
    &["hi"],
    &["hello"],
    &["hiya"],
    &["howdy"],
    &["yo"],
    &["ok"],
    &["okay"],
    &["just"],
    &[""],
];

const TRAILING_FILLER: &[&[&str]] = &[
    &["thank", "you"],
    &["thanks"],
    &["thx"],
    &["please"],
    &["pls"],
    &["plz"],
    &[""],
];

/// Drops politeness around the command; says whether it started with hello.
fn strip_filler(toks: &[Tok]) -> (&[Tok], bool) {
    let mut rest = toks;
    let mut greeted = false;
    while let Some(p) = LEADING_FILLER.iter().find(|p| starts_with(rest, p)) {
        greeted |= p.first().is_some_and(|w| GREETINGS.contains(w));
        rest = rest.get(p.len()..).unwrap_or_default();
    }
    while let Some(shorter) = before_suffix(rest, TRAILING_FILLER) {
        rest = shorter;
    }
    (rest, greeted)
}

pub(super) fn parse_command(src: &str, today: NaiveDate) -> Command {
    let all = tokenize(src);
    const THANKS: &[&str] = &[
        "thanks", "thank", "you", "thx", "ty", "cheers", "great", "cool", "ok", "okay", "nice",
        "perfect", "awesome", "",
    ];
    if all
        .iter()
        .any(|t| key_in(t, &["thanks", "thank", "thx", "ty"]))
        && all.iter().all(|t| key_in(t, THANKS))
    {
        return Command::Say("You're welcome!".to_string());
    }
    let (toks, greeted) = strip_filler(&all);
    if toks.is_empty() {
        return Command::Say(help_text(if greeted { "Hi! " } else { "" }));
    }
    if is_help(toks) {
        return Command::Say(help_text(""));
    }
    let parser = Parser { src, today };
    parser
        .add(toks)
        .or_else(|| parser.search(toks))
        .or_else(|| list(toks))
        .or_else(|| parser.mark(toks))
        .or_else(|| parser.simple(toks))
        .or_else(|| parser.update(toks))
        .or_else(|| parser.id_first(toks))
        .or_else(|| parser.title_is_done(toks))
        .unwrap_or_else(|| {
            Command::Say(help_text(if greeted {
                "Hi! "
            } else {
                "Sorry, I didn't understand that. "
            }))
        })
}

fn is_help(toks: &[Tok]) -> bool {
    const HELP: &[&[&str]] = &[
        &["help"],
        &["help", "me"],
        &["what", "can", "you", "do"],
        &["what", "do", "you", "do"],
        &["how", "does", "this", "work"],
        &["how", "do", "i", "use", "this"],
        &["who", "are", "you"],
        &["commands"],
        &["usage"],
        &["menu"],
    ];
    HELP.iter()
        .any(|p| p.len() == toks.len() && starts_with(toks, p))
}

const ADD_PREFIXES: &[&[&str]] = &[
    &["add", "a", "new", "task"],
    &["add", "new", "task"],
    &["add", "a", "task"],
    &["add", "task"],
    &["add", "a", "todo"],
    &["add", "todo"],
    &["create", "a", "new", "task"],
    &["create", "new", "task"],
    &["create", "a", "task"],
    &["create", "task"],
    &["new", "task"],
    &["new", "todo"],
    &["remind", "me", "to"],
    &["remember", "to"],
    &["don't", "forget", "to"],
    &["add"],
    &["create"],
];

const SEARCH_PREFIXES: &[&[&str]] = &[
    &["search", "for"],
    &["search"],
    &["find"],
    &["look", "for"],
    &["look", "up"],
    &["lookup"],
];

const COMPLETE_PREFIXES: &[&[&str]] = &[
    &["i'm", "done", "with"],
    &["i", "am", "done", "with"],
    &["i've", "finished"],
    &["i", "finished"],
    &["i", "completed"],
    &["i've", "completed"],
    &["done", "with"],
    &["finished", "with"],
    &["check", "off"],
    &["tick", "off"],
    &["cross", "off"],
    &["complete"],
    &["completed"],
    &["finish"],
    &["finished"],
    &["done"],
    &["close"],
];

const REOPEN_PREFIXES: &[&[&str]] = &[
    &["re-open"],
    &["reopen"],
    &["undo"],
    &["uncomplete"],
    &["un-complete"],
    &["unfinish"],
    &["uncheck"],
    &["unmark"],
];

const DELETE_PREFIXES: &[&[&str]] = &[
    &["get", "rid", "of"],
    &["delete"],
    &["remove"],
    &["drop"],
    &["cancel"],
    &["erase"],
    &["trash"],
    &["discard"],
];

const RENAME_PREFIXES: &[&[&str]] = &[
    &["change", "the", "title", "of"],
    &["change", "title", "of"],
    &["change", "the", "name", "of"],
    &["rename"],
    &["retitle"],
];

/// Verbs that change fields; `true` when "VERB 3 to X" can mean a new title.
const CHANGE_VERBS: &[(&str, bool)] = &[
    ("change", true),
    ("update", true),
    ("edit", true),
    ("set", false),
    ("make", false),
    ("move", false),
    ("push", false),
    ("reschedule", false),
    ("postpone", false),
    ("schedule", false),
    ("delay", false),
    ("bump", false),
];

/// "mark 3 ..." endings; `false` reopens. Not-done forms come first since
/// they end in the same words.
const MARK_SUFFIXES: &[(&[&str], bool)] = &[
    (&["as", "not", "done"], false),
    (&["not", "done"], false),
    (&["as", "not", "completed"], false),
    (&["not", "completed"], false),
    (&["as", "undone"], false),
    (&["undone"], false),
    (&["as", "incomplete"], false),
    (&["incomplete"], false),
    (&["as", "unfinished"], false),
    (&["unfinished"], false),
    (&["as", "open"], false),
    (&["open"], false),
    (&["as", "pending"], false),
    (&["pending"], false),
    (&["as", "todo"], false),
    (&["as", "done"], true),
    (&["done"], true),
    (&["as", "complete"], true),
    (&["complete"], true),
    (&["as", "completed"], true),
    (&["completed"], true),
    (&["as", "finished"], true),
    (&["finished"], true),
    (&["off"], true),
];

/// "3 is done" endings after a task number.
const ID_DONE_TAILS: &[(&[&str], bool)] = &[
    (&["is", "not", "done"], false),
    (&["isn't", "done"], false),
    (&["is", "not", "finished"], false),
    (&["not", "done"], false),
    (&["is", "open", "again"], false),
    (&["is", "open"], false),
    (&["undone"], false),
    (&["is", "done"], true),
    (&["is", "finished"], true),
    (&["is", "complete"], true),
    (&["is", "completed"], true),
    (&["are", "done"], true),
    (&["are", "finished"], true),
    (&["done"], true),
    (&["finished"], true),
    (&["complete"], true),
    (&["completed"], true),
];

/// Words that may surround a task number without changing its meaning.
const ID_FILLER: &[&str] = &[
    "task", "tasks", "number", "numbers", "no", "nr", "#", "id", "ids", "and", "&", "", "plus",
];

/// Words that name no task in particular ("delete it", "complete all").
const VAGUE: &[&str] = &[
    "all",
    "everything",
    "them",
    "it",
    "that",
    "this",
    "those",
    "these",
    "tasks",
    "task",
    "my",
    "the",
    "of",
    "one",
    "ones",
    "todo",
    "todos",
    "",
];

/// Words allowed around the modifiers of a change ("set 3 to high").
const CHANGE_FILLER: &[&str] = &[
    "", "to", "as", "for", "due", "on", "by", "priority", "prio", "of", "the", "its", "it", "it's",
    "is", "be", "date", "deadline", "until", "till", "and", "with", "a", "an", "level", "at",
];

/// Words that may be left between two modifiers ("tomorrow, and urgent").
const CONNECTORS: &[&str] = &["", "and", "&", "with", "plus", "also"];

const DATE_PREFIXES: &[&str] = &[
    "on", "by", "due", "before", "until", "till", "for", "deadline",
];

const PRIORITY_PREFIXES: &[&str] = &["with", "as", "at", "a", "an", "is"];

/// "to my list" and friends at the end of an add.
const LIST_SUFFIXES: &[&[&str]] = &[
    &["to", "my", "todo", "list"],
    &["to", "my", "to-do", "list"],
    &["to", "the", "todo", "list"],
    &["to", "my", "list"],
    &["to", "the", "list"],
    &["to", "my", "tasks"],
    &["to", "my", "todos"],
    &["on", "my", "list"],
];

/// Task numbers in one word: "3", "#3", "3,4".
fn ids_in_key(key: &str) -> Option<Vec<i64>> {
    let ids: Option<Vec<i64>> = key
        .split([',', '&'])
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let digits = piece.strip_prefix('#').unwrap_or(piece);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            digits.parse::<i64>().ok().filter(|n| *n > 0)
        })
        .collect();
    ids.filter(|ids| !ids.is_empty())
}

fn push_ids(into: &mut Vec<i64>, found: Vec<i64>) {
    for id in found {
        if !into.contains(&id) {
            into.push(id);
        }
    }
}

/// The task numbers when `toks` is nothing but ("task 3 and #5").
fn ids_only(toks: &[Tok]) -> Option<Vec<i64>> {
    let mut ids = Vec::new();
    for tok in toks {
        match ids_in_key(&tok.key) {
            Some(found) => push_ids(&mut ids, found),
            None if key_in(tok, ID_FILLER) => {}
            None => return None,
        }
    }
    (!ids.is_empty()).then_some(ids)
}

/// Task numbers at the start of `toks`, and how many words they take.
fn leading_ids(toks: &[Tok]) -> Option<(Vec<i64>, usize)> {
    let mut ids = Vec::new();
    let mut used = 0;
    for (i, tok) in toks.iter().enumerate() {
        match ids_in_key(&tok.key) {
            Some(found) => {
                push_ids(&mut ids, found);
                used = i + 1;
            }
            None if key_in(tok, ID_FILLER) => {}
            None => break,
        }
    }
    (!ids.is_empty()).then_some((ids, used))
}

/// Task numbers somewhere inside ("the due date of task 3 to friday"): the
/// numbers and the range of words they take.
fn inner_ids(toks: &[Tok]) -> Option<(Vec<i64>, usize, usize)> {
    let first = toks.iter().position(|t| ids_in_key(&t.key).is_some())?;
    let mut start = first;
    while start > 0
        && toks
            .get(start - 1)
            .is_some_and(|t| key_in(t, &["task", "number", "#", "no", "nr"]))
    {
        start -= 1;
    }
    let (ids, used) = leading_ids(toks.get(first..)?)?;
    Some((ids, start, first + used))
}

/// Splits tags (`#work`) off; `#3` is a task number, not a tag.
fn split_tags(toks: &[Tok]) -> (Vec<Tok>, Vec<String>) {
    let mut kept = Vec::new();
    let mut tags: Vec<String> = Vec::new();
    for tok in toks {
        let tag = tok
            .key
            .strip_prefix('#')
            .filter(|rest| rest.chars().next().is_some_and(char::is_alphabetic));
        match tag {
            Some(tag) => {
                if !tags.iter().any(|t| t == tag) {
                    tags.push(tag.to_string());
                }
            }
            None => kept.push(tok.clone()),
        }
    }
    (kept, tags)
}

/// A task named by its title ("the milk task" -> "milk"); `None` when the
/// words name no task in particular.
fn target_title(src: &str, toks: &[Tok]) -> Option<String> {
    const LEAD: &[&[&str]] = &[
        &["the", "task", "called"],
        &["the", "task", "named"],
        &["task", "called"],
        &["task", "named"],
        &["the", "due", "date", "of"],
        &["due", "date", "of"],
        &["the", "priority", "of"],
        &["priority", "of"],
        &["the", "deadline", "of"],
        &["the", "deadline", "for"],
        &["the", "task"],
        &["the", "todo"],
        &["task"],
        &["the"],
        &["my"],
    ];
    let mut rest = after_prefix(toks, LEAD).unwrap_or(toks);
    while let Some(shorter) = before_suffix(rest, &[&["task"], &["todo"], &["item"], &[""]]) {
        rest = shorter;
    }
    if rest.iter().all(|t| key_in(t, VAGUE)) {
        return None;
    }
    let title = clean(&words(src, rest));
    (!title.is_empty()).then_some(title)
}

pub(super) fn help_text(opening: &str) -> String {
    format!(
        "{opening}I can keep your to-do list. Try \"add call mom tomorrow, high priority\", \
         \"show my tasks\" or \"complete 3\". I also understand rename, move, reopen, delete and find."
    )
}

fn which_task(example: &str) -> Command {
    Command::Say(format!(
        "Which task? Tell me its number or title, e.g. \"{example}\"."
    ))
}

fn change_help() -> Command {
    Command::Say(
        "I can change a task's title, due date or priority, e.g. \"rename 3 to buy oat milk\", \
         \"move 3 to friday\" or \"set 3 priority high\"."
            .to_string(),
    )
}

/// "show my tasks", "what's still open", "what did I finish": sentences made
/// only of listing words, with at least one that asks for a list.
fn list(toks: &[Tok]) -> Option<Command> {
    const VOCAB: &[&str] = &[
        "list",
        "show",
        "display",
        "view",
        "see",
        "get",
        "give",
        "tell",
        "me",
        "my",
        "the",
        "all",
        "everything",
        "every",
        "tasks",
        "task",
        "todo",
        "todos",
        "to-do",
        "to-dos",
        "items",
        "things",
        "stuff",
        "what",
        "what's",
        "whats",
        "which",
        "is",
        "are",
        "still",
        "open",
        "left",
        "pending",
        "remaining",
        "outstanding",
        "unfinished",
        "incomplete",
        "undone",
        "do",
        "i",
        "have",
        "to",
        "need",
        "got",
        "completed",
        "complete",
        "done",
        "finished",
        "finish",
        "did",
        "i've",
        "ive",
        "already",
        "so",
        "far",
        "yet",
        "of",
        "on",
        "in",
        "status",
        "current",
        "currently",
        "now",
        "today",
        "how",
        "many",
        "there",
        "any",
        "that",
        "i'm",
        "am",
        "a",
        "an",
        "you",
        "can",
        "",
    ];
    const TRIGGERS: &[&str] = &[
        "list",
        "show",
        "display",
        "view",
        "see",
        "tasks",
        "todo",
        "todos",
        "to-do",
        "to-dos",
        "what",
        "what's",
        "whats",
        "which",
        "pending",
        "open",
        "left",
        "remaining",
        "outstanding",
        "everything",
        "items",
    ];
    if !toks.iter().all(|t| key_in(t, VOCAB)) || !toks.iter().any(|t| key_in(t, TRIGGERS)) {
        return None;
    }
    // "complete my tasks" is a (vague) command, not a question.
    if toks
        .first()
        .is_some_and(|t| key_in(t, &["complete", "finish"]))
    {
        return None;
    }
    let status = if toks.iter().any(|t| {
        key_in(
            t,
            &["completed", "complete", "done", "finished", "finish", "did"],
        )
    }) {
        Status::Completed
    } else if toks
        .iter()
        .any(|t| key_in(t, &["all", "everything", "every"]))
    {
        Status::All
    } else {
        Status::Pending
    };
    Some(Command::List {
        status,
        query: None,
    })
}

struct Parser<'a> {
    src: &'a str,
    today: NaiveDate,
}

impl Parser<'_> {
    fn add(&self, toks: &[Tok]) -> Option<Command> {
        let first = toks.first()?;
        let raw_first = self.src.get(first.start..first.end).unwrap_or("");
        let end = toks.last().map_or(first.end, |t| t.end);
        // "todo: X" and "todo:X" (the colon may glue the first word on).
        let body: Vec<Tok> = if raw_first
            .get(..5)
            .is_some_and(|p| p.eq_ignore_ascii_case("todo:"))
        {
            tokenize_range(self.src, first.start + 5, end)
        } else {
            after_prefix(toks, ADD_PREFIXES)?.to_vec()
        };
        let mut body: &[Tok] = &body;
        while let Some(rest) = after_prefix(body, &[&[""], &["called"], &["named"], &["titled"]]) {
            body = rest;
        }
        // "add a task to call mom": the "to" belongs to the verb.
        if starts_with(body, &["to"]) && starts_with(toks, &["add", "a", "task"]) {
            body = body.get(1..).unwrap_or_default();
        }
        if body.is_empty() {
            return Some(Command::Say(
                "What should I add? For example: \"add call mom tomorrow\".".to_string(),
            ));
        }
        let (kept, tags) = split_tags(body);
        let mut mods = Mods {
            tags,
            ..Mods::default()
        };
        let mut title_toks: &[Tok] = &kept;
        title_toks = before_suffix(title_toks, LIST_SUFFIXES).unwrap_or(title_toks);
        let n = self.strip_mods(title_toks, false, &mut mods);
        title_toks = title_toks.get(..n).unwrap_or_default();
        title_toks = before_suffix(title_toks, LIST_SUFFIXES).unwrap_or(title_toks);
        let title = clean(&words(self.src, title_toks));
        if title.is_empty() {
            return Some(Command::Say(
                "What should the task be called? For example: \"add call mom tomorrow\"."
                    .to_string(),
            ));
        }
        Some(Command::Add { title, mods })
    }

    fn search(&self, toks: &[Tok]) -> Option<Command> {
        const LEAD: &[&str] = &[
            "tasks",
            "task",
            "my",
            "the",
            "all",
            "about",
            "with",
            "for",
            "matching",
            "containing",
            "named",
            "called",
            "titled",
            "that",
            "mention",
            "mentioning",
            "",
        ];
        let mut rest = after_prefix(toks, SEARCH_PREFIXES)?;
        if rest.is_empty() {
            return Some(Command::Say(
                "What should I look for? For example: \"find milk\".".to_string(),
            ));
        }
        while rest.first().is_some_and(|t| key_in(t, LEAD)) {
            rest = rest.get(1..).unwrap_or_default();
        }
        while let Some(shorter) = before_suffix(rest, &[&["task"], &["tasks"], &[""]]) {
            rest = shorter;
        }
        let query = clean(&words(self.src, rest));
        Some(Command::List {
            status: Status::All,
            query: (!query.is_empty()).then_some(query),
        })
    }

    fn target(&self, toks: &[Tok]) -> Option<Target> {
        if let Some(ids) = ids_only(toks) {
            return Some(Target::Ids(ids));
        }
        target_title(self.src, toks).map(Target::Title)
    }

    /// "mark 3 as done", "mark buy milk not done", "mark 3 as urgent".
    fn mark(&self, toks: &[Tok]) -> Option<Command> {
        let rest = after_prefix(toks, &[&["mark"], &["flag"]])?;
        for (suffix, done) in MARK_SUFFIXES {
            if let Some(head) = before_suffix(rest, &[*suffix]) {
                let example = if *done {
                    "mark 3 as done"
                } else {
                    "mark 3 as not done"
                };
                return Some(match self.target(head) {
                    Some(target) => Command::Complete {
                        target,
                        done: *done,
                    },
                    None => which_task(example),
                });
            }
        }
        Some(self.change(rest, false))
    }

    /// complete / reopen / delete: a verb and a target, nothing else.
    fn simple(&self, toks: &[Tok]) -> Option<Command> {
        // "check 3 off", "tick buy milk off"
        if toks.len() >= 3
            && toks
                .first()
                .is_some_and(|t| key_in(t, &["check", "tick", "cross"]))
            && ends_with(toks, &["off"])
        {
            let middle = toks.get(1..toks.len() - 1).unwrap_or_default();
            return Some(match self.target(middle) {
                Some(target) => Command::Complete { target, done: true },
                None => which_task("check off 3"),
            });
        }
        if let Some(rest) = after_prefix(toks, COMPLETE_PREFIXES) {
            let rest = before_suffix(rest, &[&["as", "done"], &["off"]]).unwrap_or(rest);
            return Some(match self.target(rest) {
                Some(target) => Command::Complete { target, done: true },
                None => which_task("complete 3"),
            });
        }
        if let Some(rest) = after_prefix(toks, REOPEN_PREFIXES) {
            return Some(match self.target(rest) {
                Some(target) => Command::Complete {
                    target,
                    done: false,
                },
                None => which_task("reopen 3"),
            });
        }
        let rest = after_prefix(toks, DELETE_PREFIXES)?;
        Some(match self.target(rest) {
            Some(target) => Command::Delete { target },
            None => which_task("delete 3"),
        })
    }

    /// rename / change / set / move ... and prioritize.
    fn update(&self, toks: &[Tok]) -> Option<Command> {
        if let Some(rest) = after_prefix(toks, RENAME_PREFIXES) {
            return Some(self.rename(rest));
        }
        for (verbs, priority) in [
            (&["prioritize", "prioritise"], Priority::High),
            (&["deprioritize", "deprioritise"], Priority::Low),
        ] {
            if toks.first().is_some_and(|t| key_in(t, verbs)) {
                let rest = toks.get(1..).unwrap_or_default();
                return Some(match self.target(rest) {
                    Some(target) => Command::Update {
                        target,
                        title: None,
                        mods: Mods {
                            priority: Some(priority),
                            ..Mods::default()
                        },
                    },
                    None => which_task("prioritize 3"),
                });
            }
        }
        let first = toks.first()?;
        let (_, can_rename) = CHANGE_VERBS.iter().find(|(verb, _)| first.key == *verb)?;
        Some(self.change(toks.get(1..).unwrap_or_default(), *can_rename))
    }

    fn rename(&self, rest: &[Tok]) -> Command {
        const TO: &[&str] = &["to", "as", "into"];
        let usage = "I can rename a task like this: \"rename 3 to buy oat milk\".";
        if let Some((ids, used)) = leading_ids(rest) {
            let mut tail = rest.get(used..).unwrap_or_default();
            if tail.first().is_some_and(|t| key_in(t, TO)) {
                tail = tail.get(1..).unwrap_or_default();
            }
            let title = clean(&words(self.src, tail));
            if title.is_empty() {
                return Command::Say(usage.to_string());
            }
            return Command::Update {
                target: Target::Ids(ids),
                title: Some(title),
                mods: Mods::default(),
            };
        }
        // By title: the first "to" separates the old title from the new.
        let split = rest
            .iter()
            .skip(1)
            .position(|t| key_in(t, TO))
            .map(|i| i + 1);
        if let Some(at) = split
            && let Some(target) = target_title(self.src, rest.get(..at).unwrap_or_default())
        {
            let title = clean(&words(self.src, rest.get(at + 1..).unwrap_or_default()));
            if !title.is_empty() {
                return Command::Update {
                    target: Target::Title(target),
                    title: Some(title),
                    mods: Mods::default(),
                };
            }
        }
        Command::Say(usage.to_string())
    }

    /// What follows a change verb: a target, then new values.
    fn change(&self, rest: &[Tok], can_rename: bool) -> Command {
        let update = |target, title, mods| Command::Update {
            target,
            title,
            mods,
        };
        if let Some((ids, used)) = leading_ids(rest) {
            let tail = rest.get(used..).unwrap_or_default();
            if let Some(mods) = self.exact_mods(tail) {
                return update(Target::Ids(ids), None, mods);
            }
            if can_rename && starts_with(tail, &["to"]) {
                let title = clean(&words(self.src, tail.get(1..).unwrap_or_default()));
                if !title.is_empty() {
                    return update(Target::Ids(ids), Some(title), Mods::default());
                }
            }
            return change_help();
        }
        // "set the priority of task 3 to high"
        if let Some((ids, start, end)) = inner_ids(rest) {
            let mut tail: Vec<Tok> = rest.get(..start).unwrap_or_default().to_vec();
            tail.extend_from_slice(rest.get(end..).unwrap_or_default());
            if let Some(mods) = self.exact_mods(&tail) {
                return update(Target::Ids(ids), None, mods);
            }
        }
        // By title: the longest run of new values at the end.
        for at in 1..rest.len() {
            let (head, tail) = rest.split_at(at);
            if let Some(mods) = self.exact_mods(tail)
                && let Some(title) = target_title(self.src, head)
            {
                return update(Target::Title(title), None, mods);
            }
        }
        if can_rename {
            let split = rest
                .iter()
                .skip(1)
                .position(|t| t.key == "to")
                .map(|i| i + 1);
            if let Some(at) = split
                && let Some(target) = target_title(self.src, rest.get(..at).unwrap_or_default())
            {
                let title = clean(&words(self.src, rest.get(at + 1..).unwrap_or_default()));
                if !title.is_empty() {
                    return update(Target::Title(target), Some(title), Mods::default());
                }
            }
        }
        change_help()
    }

    /// "3 is done", "3 due tomorrow", "5 high priority".
    fn id_first(&self, toks: &[Tok]) -> Option<Command> {
        let (ids, used) = leading_ids(toks)?;
        let tail = toks.get(used..).unwrap_or_default();
        if tail.is_empty() {
            return None;
        }
        if let Some((_, done)) = ID_DONE_TAILS
            .iter()
            .find(|(words, _)| words.len() == tail.len() && starts_with(tail, words))
        {
            return Some(Command::Complete {
                target: Target::Ids(ids),
                done: *done,
            });
        }
        let mods = self.exact_mods(tail)?;
        Some(Command::Update {
            target: Target::Ids(ids),
            title: None,
            mods,
        })
    }

    /// "buy milk is done".
    fn title_is_done(&self, toks: &[Tok]) -> Option<Command> {
        let head = before_suffix(
            toks,
            &[
                &["is", "done"],
                &["is", "finished"],
                &["is", "complete"],
                &["is", "completed"],
            ],
        )?;
        let title = target_title(self.src, head)?;
        Some(Command::Complete {
            target: Target::Title(title),
            done: true,
        })
    }

    /// Modifiers that make up all of `toks` (bar filler words), if any.
    fn exact_mods(&self, toks: &[Tok]) -> Option<Mods> {
        let (kept, tags) = split_tags(toks);
        let mut mods = Mods {
            tags,
            ..Mods::default()
        };
        let n = self.strip_mods(&kept, true, &mut mods);
        let left = kept.get(..n).unwrap_or_default();
        (left.iter().all(|t| key_in(t, CHANGE_FILLER)) && !mods.is_empty()).then_some(mods)
    }

    /// Peels due dates and priorities off the end of `toks` into `mods`;
    /// returns how many words are left. The last one written wins.
    /// `bare` also takes a lone "high"/"low" (fine after "set 3 to").
    fn strip_mods(&self, toks: &[Tok], bare: bool, mods: &mut Mods) -> usize {
        let mut n = toks.len();
        loop {
            let head = toks.get(..n).unwrap_or_default();
            let used = if let Some((used, date)) = self.date_at_end(head) {
                mods.due.get_or_insert(date);
                used
            } else if let Some((used, priority)) = priority_at_end(head, bare) {
                mods.priority.get_or_insert(priority);
                used
            } else {
                return n;
            };
            n = n.saturating_sub(used);
            while n > 0 && toks.get(n - 1).is_some_and(|t| key_in(t, CONNECTORS)) {
                n -= 1;
            }
        }
    }

    /// A date phrase ending `toks`, with its "on"/"by"/"due" in front.
    fn date_at_end(&self, toks: &[Tok]) -> Option<(usize, NaiveDate)> {
        let keys: Vec<&str> = toks.iter().map(|t| t.key.as_str()).collect();
        let (mut used, date) = date_core(&keys, self.today)?;
        while used < keys.len()
            && keys
                .get(keys.len() - used - 1)
                .is_some_and(|k| DATE_PREFIXES.contains(k))
        {
            used += 1;
        }
        Some((used, date))
    }
}

fn priority_at_end(toks: &[Tok], bare: bool) -> Option<(usize, Priority)> {
    let last = toks.last()?.key.as_str();
    let prev = toks
        .len()
        .checked_sub(2)
        .and_then(|i| toks.get(i))
        .map(|t| t.key.as_str());
    let level = |word: Option<&str>| word.and_then(Priority::from_level);
    let (mut used, priority) = match (prev, last) {
        (Some(p), "priority" | "prio") if level(Some(p)).is_some() => (2, level(Some(p))?),
        (Some("priority" | "prio"), l) if level(Some(l)).is_some() => (2, level(Some(l))?),
        (Some("not"), "urgent" | "important") => (2, Priority::Low),
        (_, "urgent" | "important" | "asap" | "urgently" | "high-priority") => (1, Priority::High),
        (_, "low-priority") => (1, Priority::Low),
        (_, "medium-priority" | "normal-priority") => (1, Priority::Medium),
        (_, l) if bare && level(Some(l)).is_some() => (1, level(Some(l))?),
        _ => return None,
    };
    while used < toks.len()
        && toks
            .get(toks.len() - used - 1)
            .is_some_and(|t| key_in(t, PRIORITY_PREFIXES))
    {
        used += 1;
    }
    Some((used, priority))
}
