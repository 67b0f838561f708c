//! Which task a user means by its words ("the dentist thing", "buy mlk",
//! "called mom"): every word they said must be in the title, as typed, in
//! another form (called → call, bought → buy, plants → plant) or with one
//! letter wrong.

/// Words that name no part of a title.
const STOP: &[&str] = &[
    "the",
    "a",
    "an",
    "my",
    "thing",
    "things",
    "task",
    "tasks",
    "todo",
    "to-do",
    "item",
    "stuff",
    "one",
    "that",
    "this",
    "some",
    "our",
    "your",
    "bit",
    "about",
    "re",
    "those",
    "these",
    "everything",
    "all",
    "",
];

const IRREGULAR: &[(&str, &str)] = &[
    ("bought", "buy"),
    ("sent", "send"),
    ("paid", "pay"),
    ("made", "make"),
    ("did", "do"),
    ("done", "do"),
    ("went", "go"),
    ("took", "take"),
    ("got", "get"),
    ("wrote", "write"),
    ("written", "write"),
    ("found", "find"),
    ("met", "meet"),
    ("told", "tell"),
    ("gave", "give"),
    ("given", "give"),
    ("sold", "sell"),
    ("brought", "bring"),
    ("built", "build"),
    ("ran", "run"),
    ("drove", "drive"),
    ("ate", "eat"),
    ("saw", "see"),
    ("seen", "see"),
    ("left", "leave"),
    ("kept", "keep"),
    ("fed", "feed"),
    ("had", "have"),
    ("spoke", "speak"),
    ("taught", "teach"),
    ("thought", "think"),
    ("caught", "catch"),
    ("swept", "sweep"),
    ("hung", "hang"),
    ("put", "put"),
    ("set", "set"),
    ("cut", "cut"),
    ("read", "read"),
    ("began", "begin"),
    ("chose", "choose"),
    ("drew", "draw"),
    ("flew", "fly"),
    ("forgot", "forget"),
    ("sang", "sing"),
    ("sat", "sit"),
    ("slept", "sleep"),
    ("spent", "spend"),
    ("stood", "stand"),
    ("threw", "throw"),
    ("understood", "understand"),
    ("woke", "wake"),
    ("won", "win"),
    ("lent", "lend"),
    ("lost", "lose"),
    ("heard", "hear"),
    ("held", "hold"),
    ("led", "lead"),
    ("dealt", "deal"),
];

/// Verbs said for one another in tasks.
const SYNONYMS: &[(&str, &str)] = &[
    ("get", "buy"),
    ("grab", "buy"),
    ("purchase", "buy"),
    ("phone", "call"),
    ("ring", "call"),
    ("rang", "call"),
];

/// The word and the base forms it may stand for.
pub(crate) fn forms(word: &str) -> Vec<String> {
    let w: String = word
        .to_lowercase()
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_string();
    let mut out = vec![w.clone()];
    if let Some((_, base)) = IRREGULAR.iter().find(|(past, _)| *past == w) {
        out.push((*base).to_string());
    }
    // Words said for one another: "got the milk" is "buy milk".
    let base = out.last().cloned().unwrap_or_default();
    if let Some((_, same)) = SYNONYMS.iter().find(|(word, _)| *word == base) {
        out.push((*same).to_string());
    }
    let n = w.chars().count();
    let mut add = |s: &str| {
        if !s.is_empty() && !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    };
    let undouble = |s: &str| -> Option<String> {
        let b = s.as_bytes();
        let l = b.len();
        (l >= 3 && b[l - 1] == b[l - 2] && b"bdgmnprt".contains(&b[l - 1]))
            .then(|| s[..l - 1].to_string())
    };
    if n > 4 && w.is_ascii() {
        if let Some(stem) = w.strip_suffix("ied") {
            add(&format!("{stem}y"));
        } else if let Some(stem) = w.strip_suffix("ed") {
            add(stem);
            add(&format!("{stem}e"));
            if let Some(s) = undouble(stem) {
                add(&s);
            }
        }
        if let Some(stem) = w.strip_suffix("ing") {
            add(stem);
            add(&format!("{stem}e"));
            if let Some(s) = undouble(stem) {
                add(&s);
            }
        }
        if let Some(stem) = w.strip_suffix("ies") {
            add(&format!("{stem}y"));
        }
        // "renewal" → "renew"
        if let Some(stem) = w.strip_suffix("al").filter(|s| s.len() >= 4) {
            add(stem);
        }
    }
    if n > 3 && w.is_ascii() {
        if let Some(stem) = w.strip_suffix("es") {
            add(stem);
        }
        if !w.ends_with("ss")
            && let Some(stem) = w.strip_suffix('s')
        {
            add(stem);
        }
    }
    out
}

/// Whether two words differ by at most one letter (added, dropped or changed).
fn one_off(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > 1 || a.len() < 3 || b.len() < 3 || a.first() != b.first() {
        return false;
    }
    let (mut i, mut j, mut edits) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            i += 1;
            j += 1;
            continue;
        }
        edits += 1;
        if edits > 1 {
            return false;
        }
        match a.len().cmp(&b.len()) {
            std::cmp::Ordering::Greater => i += 1,
            std::cmp::Ordering::Less => j += 1,
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    edits + (a.len() - i) + (b.len() - j) <= 1
}

/// How well one query word matches one title word: 2 same word (in some
/// form), 1 one letter off, 0 not.
fn word_score(query: &[String], title: &[String]) -> u32 {
    if query.iter().any(|q| title.contains(q)) {
        return 2;
    }
    u32::from(query.iter().any(|q| title.iter().any(|t| one_off(q, t))))
}

/// The words of `text` that say something, in their forms.
fn content_words(text: &str) -> Vec<Vec<String>> {
    text.split(|c: char| c.is_whitespace() || c == ',' || c == '/')
        .map(forms)
        .filter(|f| f.first().is_some_and(|w| !STOP.contains(&w.as_str())))
        .collect()
}

/// How `title` matches `query`: None unless every query word is in it;
/// else (the sum of word scores, whether the query covers the whole title).
pub(crate) fn title_match(query: &str, title: &str) -> Option<(u32, bool)> {
    let query = content_words(query);
    let title = content_words(title);
    if query.is_empty() {
        return None;
    }
    let mut total = 0;
    let mut used = vec![false; title.len()];
    for q in &query {
        let best = title
            .iter()
            .enumerate()
            .map(|(i, t)| (word_score(q, t), i))
            .max()
            .filter(|(score, _)| *score > 0)?;
        total += best.0;
        if let Some(u) = used.get_mut(best.1) {
            *u = true;
        }
    }
    Some((total, used.iter().all(|u| *u)))
}

/// The word to search for when the tasks a lookup saw did not hold the
/// one `query` names: its most telling word that says something (one with
/// digits, else the longest), cut to its shortest stem ("called mom" →
/// "call"), which the tool's substring search finds in every form of it.
pub(crate) fn search_word(query: &str) -> Option<String> {
    let longest = content_words(query).into_iter().max_by_key(|forms| {
        forms.first().map_or((false, 0), |w| {
            (w.chars().any(|c| c.is_ascii_digit()), w.chars().count())
        })
    })?;
    let word = longest.first()?.clone();
    longest
        .iter()
        .filter(|f| f.chars().count() >= 3 && word.starts_with(f.as_str()))
        .min_by_key(|f| f.chars().count())
        .cloned()
        .or(Some(word))
        .filter(|w| !w.is_empty())
}

/// Whether `word` is the base of a verb this module knows the past of.
pub(crate) fn is_irregular_base(word: &str) -> bool {
    IRREGULAR.iter().any(|(_, base)| *base == word)
}
