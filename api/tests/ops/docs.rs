//! The operations documents stay in step with what they describe: one
//! runbook section per alert rule, and the README links every document.

use crate::root;

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_alert_has_a_runbook_section_and_every_section_an_alert() {
    let rules = read("grafana/prometheus/alerts.yml");
    let alerts: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert:"))
        .map(str::trim)
        .collect();
    assert!(alerts.len() >= 15, "{alerts:?}");
    let runbook = read("docs/runbook.md");
    let sections: Vec<&str> = runbook
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .map(str::trim)
        .collect();
    let mut expected = alerts.clone();
    expected.sort();
    let mut got = sections.clone();
    got.sort();
    assert_eq!(
        got, expected,
        "docs/runbook.md sections vs alerts.yml rules"
    );
    for section in runbook.split("\n## ").skip(1) {
        for part in ["**Means**", "**Confirm**", "**Act**"] {
            assert!(
                section.contains(part),
                "{}: no {part}",
                section.lines().next().unwrap()
            );
        }
    }
}

#[test]
fn the_readme_links_the_operations_documents() {
    let readme = read("README.md");
    for doc in [
        "docs/deployment.md",
        "docs/runbook.md",
        "docs/troubleshooting.md",
        "docs/schema.md",
    ] {
        assert!(
            readme.contains(&format!("({doc}")),
            "README does not link {doc}"
        );
        assert!(root().join(doc).exists(), "{doc} is missing");
    }
    let troubleshooting = read("docs/troubleshooting.md");
    for topic in [
        "## RabbitMQ is down",
        "## PostgreSQL is down",
        "## The model answers 429",
        "## The quota is exhausted",
        "## Turns are stuck",
        "## SSE behind a proxy",
    ] {
        assert!(
            troubleshooting.contains(topic),
            "troubleshooting.md lacks {topic}"
        );
    }
}
