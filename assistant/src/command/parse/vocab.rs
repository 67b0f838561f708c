//! The words each kind of command is recognised by.

pub(super) const ADD_PREFIXES: &[&[&str]] = &[
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

pub(super) const SEARCH_PREFIXES: &[&[&str]] = &[
    &["search", "for"],
    &["search"],
    &["find"],
    &["look", "for"],
    &["look", "up"],
    &["lookup"],
];

pub(super) const COMPLETE_PREFIXES: &[&[&str]] = &[
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

pub(super) const REOPEN_PREFIXES: &[&[&str]] = &[
    &["re-open"],
    &["reopen"],
    &["undo"],
    &["uncomplete"],
    &["un-complete"],
    &["unfinish"],
    &["uncheck"],
    &["unmark"],
];

pub(super) const DELETE_PREFIXES: &[&[&str]] = &[
    &["get", "rid", "of"],
    &["delete"],
    &["remove"],
    &["drop"],
    &["cancel"],
    &["erase"],
    &["trash"],
    &["discard"],
];

pub(super) const RENAME_PREFIXES: &[&[&str]] = &[
    &["change", "the", "title", "of"],
    &["change", "title", "of"],
    &["change", "the", "name", "of"],
    &["rename"],
    &["retitle"],
];

/// Verbs that change fields; `true` when "VERB 3 to X" can mean a new title.
pub(super) const CHANGE_VERBS: &[(&str, bool)] = &[
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
pub(super) const MARK_SUFFIXES: &[(&[&str], bool)] = &[
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
pub(super) const ID_DONE_TAILS: &[(&[&str], bool)] = &[
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
pub(super) const ID_FILLER: &[&str] = &[
    "task", "tasks", "number", "numbers", "no", "nr", "#", "id", "ids", "and", "&", "", "plus",
];

/// Words that name no task in particular ("delete it", "complete all").
pub(super) const VAGUE: &[&str] = &[
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
pub(super) const CHANGE_FILLER: &[&str] = &[
    "", "to", "as", "for", "due", "on", "by", "priority", "prio", "of", "the", "its", "it", "it's",
    "is", "be", "date", "deadline", "until", "till", "and", "with", "a", "an", "level", "at",
];

/// Words that may be left between two modifiers ("tomorrow, and urgent").
pub(super) const CONNECTORS: &[&str] = &["", "and", "&", "with", "plus", "also"];

pub(super) const DATE_PREFIXES: &[&str] = &[
    "on", "by", "due", "before", "until", "till", "for", "deadline",
];

pub(super) const PRIORITY_PREFIXES: &[&str] = &["with", "as", "at", "a", "an", "is"];

/// "to my list" and friends at the end of an add.
pub(super) const LIST_SUFFIXES: &[&[&str]] = &[
    &["to", "my", "todo", "list"],
    &["to", "my", "to-do", "list"],
    &["to", "the", "todo", "list"],
    &["to", "my", "list"],
    &["to", "the", "list"],
    &["to", "my", "tasks"],
    &["to", "my", "todos"],
    &["on", "my", "list"],
];
