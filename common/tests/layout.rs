//! The workspace's module graph has no cycles (issue 20): within each crate,
//! no top-level module uses one that uses it back, however indirectly. A
//! cycle means neither side can be understood, tested or moved alone.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const CRATES: &[&str] = &["common", "assistant", "api", "worker", "mock-openai"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Top-level module -> the other top-level modules its code names as
/// `crate::<module>` (unit tests left out: they may use anything).
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" || module == "main" || module == "tests" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
        for (at, _) in code.match_indices("crate::") {
            let name: String = code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if !name.is_empty() && name != module {
                graph.entry(module.clone()).or_default().insert(name);
            }
        }
    }
    graph
}

/// One cycle through `start`, if any: the path back to it.
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_string(), vec![start.to_string()])];
    let mut seen = BTreeSet::new();
    while let Some((node, path)) = stack.pop() {
        for next in graph.get(&node).into_iter().flatten() {
            if next == start {
                let mut cycle = path.clone();
                cycle.push(start.to_string());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

fn cycles(src: &Path) -> Vec<String> {
    let graph = graph(src);
    graph
        .keys()
        .filter_map(|m| cycle_from(&graph, m))
        .map(|c| c.join(" -> "))
        .collect()
}

#[test]
fn no_module_uses_one_that_uses_it_back() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // The scan sees the modules (common's use each other a lot).
    assert!(graph(&root.join("common/src")).len() > 5, "modules read");
    let mut found = Vec::new();
    for krate in CRATES {
        let src = root.join(krate).join("src");
        found.extend(cycles(&src).into_iter().map(|c| format!("{krate}: {c}")));
    }
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

#[test]
fn a_cycle_is_seen() {
    let dir = std::env::temp_dir().join(format!("layout-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("a")).unwrap();
    std::fs::write(dir.join("a/mod.rs"), "use crate::b::B;\n").unwrap();
    std::fs::write(dir.join("b.rs"), "use crate::c::{C};\n").unwrap();
    std::fs::write(dir.join("c.rs"), "pub fn f() { crate::a::g() }\n").unwrap();
    std::fs::write(dir.join("d.rs"), "use crate::a::A;\n").unwrap();
    let found = cycles(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        found,
        ["a -> b -> c -> a", "b -> c -> a -> b", "c -> a -> b -> c"]
    );
}

/// Whether `code` names the RabbitMQ client library as code (a path or a
/// `use`), not just in a string (telemetry matches its log target by name).
fn names_lapin(code: &str) -> bool {
    code.match_indices("lapin::").any(|(at, _)| {
        code[at + "lapin::".len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '{')
    }) || code.contains("use lapin")
}

#[test]
fn only_the_queue_module_uses_the_rabbitmq_client() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let queue = root.join("common/src/queue");
    let mut outside = Vec::new();
    let mut inside = 0;
    for krate in CRATES {
        let mut files = Vec::new();
        rust_files(&root.join(krate).join("src"), &mut files);
        for file in files {
            if !names_lapin(&std::fs::read_to_string(&file).unwrap()) {
                continue;
            }
            if file.starts_with(&queue) {
                inside += 1;
            } else {
                outside.push(file.display().to_string());
            }
        }
    }
    assert!(inside > 0, "the scan sees the queue module's own use");
    assert!(
        outside.is_empty(),
        "lapin used outside common/src/queue: {outside:?}"
    );
}

/// Runtime (unchecked) query calls in `code`, unit tests left out.
fn runtime_queries(code: &str) -> usize {
    let code = code.split("#[cfg(test)]\nmod tests").next().unwrap();
    [
        "sqlx::query(",
        "sqlx::query_as(",
        "sqlx::query_scalar(",
        "query_as::<",
        "query_scalar::<",
    ]
    .iter()
    .map(|call| code.matches(call).count())
    .sum()
}

/// Issue 20: SQL is checked at compile time (`query!` and kin against
/// `.sqlx/`). The one statement assembled at run time is the task listing's
/// (docs/architecture.md, "Data access"); a new runtime query fails here.
#[test]
fn the_services_query_only_through_the_checked_macros() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut unchecked = Vec::new();
    for krate in CRATES {
        let mut files = Vec::new();
        rust_files(&root.join(krate).join("src"), &mut files);
        for file in files {
            let n = runtime_queries(&std::fs::read_to_string(&file).unwrap());
            if n > 0 {
                unchecked.push(format!("{} ({n})", file.display()));
            }
        }
    }
    assert!(
        unchecked.is_empty(),
        "runtime SQL outside the task listing: {unchecked:?}"
    );
    assert_eq!(
        runtime_queries("let n = sqlx::query_scalar(\"SELECT 1\");"),
        1,
        "the scan sees a runtime query"
    );
}
