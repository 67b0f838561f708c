//! The alert rules (grafana/prometheus/alerts.yml) can fire: each one is
//! valid PromQL and watches metrics the API and a worker process really
//! export, and the quota alert's counter counts a quota failure.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use promql_parser::parser::{self, Expr};
use reqwest::Method;
use serde_json::json;
use testkit::{TestApp, start_mock};

use crate::procs::worker_process;

/// Metrics Prometheus makes itself rather than scraping them.
const SYNTHETIC: &[&str] = &["up"];

fn rules() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../grafana/prometheus/alerts.yml"
    ))
    .expect("alerts.yml is readable");
    let names: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert:"))
        .map(|n| n.trim().to_string())
        .collect();
    let exprs: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("expr:"))
        .map(|e| e.trim().to_string())
        .collect();
    assert_eq!(names.len(), exprs.len(), "one single-line expr per alert");
    names.into_iter().zip(exprs).collect()
}

/// The metric names an expression reads.
fn selectors(expr: &Expr, into: &mut BTreeSet<String>) {
    match expr {
        Expr::VectorSelector(vs) => {
            into.extend(vs.name.clone());
        }
        Expr::MatrixSelector(ms) => {
            into.extend(ms.vs.name.clone());
        }
        Expr::Aggregate(a) => {
            selectors(&a.expr, into);
            if let Some(p) = &a.param {
                selectors(p, into);
            }
        }
        Expr::Unary(u) => selectors(&u.expr, into),
        Expr::Binary(b) => {
            selectors(&b.lhs, into);
            selectors(&b.rhs, into);
        }
        Expr::Paren(p) => selectors(&p.expr, into),
        Expr::Subquery(s) => selectors(&s.expr, into),
        Expr::Call(c) => {
            for arg in &c.args.args {
                selectors(arg, into);
            }
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}

/// The value of a sample line `name{labels} value` (or `name value`).
fn sample(scrape: &str, series: &str) -> Option<f64> {
    scrape.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

#[tokio::test]
async fn every_alert_watches_exported_metrics_and_quota_failures_count() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let worker = worker_process(
        &app,
        &mock,
        &[("WORKER_METRICS_PORT", &port), ("OPENAI_RPM", "600")],
    );
    let user = app.signup("alerts@example.com").await;

    // A normal turn, one the server refuses once with a 429 (retried), and
    // one that hits an exhausted quota.
    let (_, turn) = app.chat(&user, "add first", None, Some(30)).await;
    assert_eq!(turn["status"], "completed", "{turn}");
    mock.fail(json!({"status": 429, "count": 1, "retry_after_ms": 100}))
        .await;
    let (_, turn) = app.chat(&user, "add second", None, Some(30)).await;
    assert_eq!(turn["status"], "completed", "{turn}");
    mock.fail(json!({"status": 429, "count": 1, "code": "insufficient_quota"}))
        .await;
    let (_, turn) = app.chat(&user, "add third", None, Some(30)).await;
    assert_eq!(turn["status"], "failed", "{turn}");

    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let worker_scrape = loop {
        if let Ok(r) = http
            .get(format!("http://127.0.0.1:{port}/metrics"))
            .send()
            .await
            && let Ok(text) = r.text().await
        {
            break text;
        }
        assert!(Instant::now() < deadline, "the worker serves /metrics");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let api_scrape = app
        .call(Method::GET, "/metrics", None)
        .await
        .text()
        .await
        .unwrap();
    drop(worker);

    let rules = rules();
    assert!(
        rules.len() >= 5,
        "the rules file holds the alerts: {rules:?}"
    );
    for (name, expr) in &rules {
        let parsed = parser::parse(expr).unwrap_or_else(|e| panic!("{name}: {expr}: {e}"));
        let mut metrics = BTreeSet::new();
        selectors(&parsed, &mut metrics);
        assert!(!metrics.is_empty(), "{name} reads no metric");
        for metric in metrics.iter().filter(|m| !SYNTHETIC.contains(&m.as_str())) {
            let exported = |scrape: &str| {
                scrape.lines().any(|l| {
                    l.starts_with(&format!("{metric}{{")) || l.starts_with(&format!("{metric} "))
                })
            };
            assert!(
                exported(&worker_scrape) || exported(&api_scrape),
                "alert {name} watches {metric}, which neither the API nor a worker exports"
            );
        }
    }

    // What the model alerts compute from, after the three turns above.
    assert_eq!(
        sample(&worker_scrape, "openai_quota_exhausted_total"),
        Some(1.0)
    );
    assert_eq!(
        sample(&worker_scrape, "openai_rate_limited_total"),
        Some(1.0)
    );
    assert_eq!(
        sample(&worker_scrape, "openai_ratelimit_limit{kind=\"requests\"}"),
        Some(600.0)
    );
    assert_eq!(
        sample(&worker_scrape, "turns_total{outcome=\"failed\"}"),
        Some(1.0)
    );
}
