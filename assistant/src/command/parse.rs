//! Reading the user's sentence: politeness is dropped, then each kind of
//! command gets a try in a fixed order (`parse_command`): notes, tags and
//! other word-led changes (`edits`), new tasks (`adding`, whose words
//! `modifiers` splits into title, dates, priority, tags and recurrence),
//! finding and listing (`list`), complete/reopen/delete/skip (`sentence`),
//! changes (`changes`), and sentences without a command word (`implicit`:
//! "I called mom", "buy paprika"); before them all, a bare "undo" (`undo`). Task numbers and titles are read in
//! `targets`, the words of each kind are in `vocab`.

mod adding;
mod changes;
mod edits;
mod implicit;
mod list;
mod modifiers;
mod quick;
mod sentence;
mod targets;
mod undo;
mod vocab;

use chrono::NaiveDateTime;

use super::Command;
use crate::words::{Tok, before_suffix, key_in, starts_with, tokenize};
pub(crate) use quick::quick_add;
use sentence::Parser;

/// The words of a message that are read.
const MAX_WORDS: usize = 200;

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
    &["oops"],
    &["oh"],
    &["ah"],
    &["actually"],
    &["sorry"],
    &["so"],
    &["just"],
    &[""],
];

const TRAILING_FILLER: &[&[&str]] = &[
    &["for", "me"],
    &["now"],
    &["already"],
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

/// Whether the message says to add ("add ...", "todo: ...", "remind me to
/// ...", "put ... on my list"), rather than being a bare sentence read as a
/// task ("buy paprika").
pub(crate) fn says_add(src: &str) -> bool {
    let all = tokenize(src);
    let (toks, _) = strip_filler(&all);
    let raw_first = toks
        .first()
        .and_then(|t| src.get(t.start..t.end))
        .unwrap_or("");
    raw_first
        .get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case("todo:"))
        || crate::words::after_prefix(toks, vocab::ADD_PREFIXES).is_some()
        || (starts_with(toks, &["put"]) && crate::words::ends_with(toks, &["list"]))
}

pub(crate) fn parse_command(src: &str, now: NaiveDateTime) -> Command {
    let mut all = tokenize(src);
    // A command is short; past this many words the rest is only more title
    // (which the tools cap at 200 characters anyway), and reading it would
    // cost time that grows with its square.
    all.truncate(MAX_WORDS);
    // "thanks", "cool, thanks for the help", "thanks, that's all": small talk.
    const THANKS: &[&str] = &[
        "thanks", "thank", "you", "thx", "ty", "cheers", "great", "cool", "ok", "okay", "nice",
        "perfect", "awesome", "that's", "thats", "that", "is", "it", "all", "for", "the", "help",
        "so", "much", "a", "lot", "very", "bye", "",
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
    let parser = Parser {
        src,
        today: now.date(),
        now,
    };
    undo::last_change(toks)
        .or_else(|| parser.note(toks))
        .or_else(|| parser.instead(toks))
        .or_else(|| parser.tag(toks))
        .or_else(|| parser.add(toks))
        .or_else(|| parser.search(toks))
        .or_else(|| parser.list(toks))
        .or_else(|| parser.clear(toks))
        .or_else(|| parser.no_date(toks))
        .or_else(|| parser.mark(toks))
        .or_else(|| parser.skip(toks))
        .or_else(|| parser.simple(toks))
        .or_else(|| parser.update(toks))
        .or_else(|| parser.id_first(toks))
        .or_else(|| parser.title_is_done(toks))
        .or_else(|| parser.title_is(toks))
        .or_else(|| parser.did(toks))
        .or_else(|| parser.bare_task(toks))
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

pub(crate) fn help_text(opening: &str) -> String {
    format!(
        "{opening}I can keep your to-do list. Try \"add call mom tomorrow, high priority\", \
         \"show my tasks\" or \"complete 3\". I also understand rename, move, reopen, delete, find and undo."
    )
}

pub(crate) fn which_task(example: &str) -> Command {
    Command::Say(format!(
        "Which task? Tell me its number or title, e.g. \"{example}\"."
    ))
}

fn change_help() -> Command {
    Command::Say(
        "What should I change? I can change a task's title, due date or priority, e.g. \
         \"rename 3 to buy oat milk\", \"move 3 to friday\" or \"set 3 priority high\"."
            .to_string(),
    )
}
