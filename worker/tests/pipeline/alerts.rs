//! The alert rules (grafana/prometheus/alerts.yml) and every dashboard
//! panel (grafana/dashboards/*.json) can show something: each expression is
//! valid PromQL and reads metrics that the API, a worker process, RabbitMQ's
//! plugin or node-exporter really export; and the quota alert's counter
//! counts a quota failure.
//!
//! RabbitMQ is scraped live on 127.0.0.1:15692 (scripts/services.sh enables
//! the rabbitmq_prometheus plugin, online). Only when that port is closed is
//! grafana/fixtures/rabbitmq-prometheus.txt used, captured from the plugin
//! of RabbitMQ 3.10 (`UPDATE_FIXTURES=1` rewrites it from a live scrape).
//! node-exporter runs on hosts, not here: grafana/fixtures/node-exporter.txt
//! was captured from Debian's prometheus-node-exporter 1.5.0.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use promql_parser::parser::{self, Expr};
use reqwest::Method;
use serde_json::json;
use testkit::{TestApp, start_mock};

use crate::procs::worker_process;

/// Metrics Prometheus makes itself rather than scraping them.
const SYNTHETIC: &[&str] = &["up"];

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../grafana/fixtures");

/// Every panel query of every dashboard, as (where, expr). Grafana
/// variables (`$prompt_usd_per_1k`) become numbers so the query parses.
fn dashboard_exprs() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../grafana/dashboards");
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("grafana/dashboards exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for file in files {
        let dashboard: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let mut panels: Vec<serde_json::Value> =
            dashboard["panels"].as_array().cloned().unwrap_or_default();
        // Rows keep their panels inside.
        while let Some(panel) = panels.pop() {
            if let Some(inner) = panel["panels"].as_array() {
                panels.extend(inner.iter().cloned());
            }
            for target in panel["targets"].as_array().into_iter().flatten() {
                if let Some(expr) = target["expr"].as_str() {
                    out.push((
                        format!("{name} / {}", panel["title"].as_str().unwrap_or("?")),
                        substitute_variables(expr),
                    ));
                }
            }
        }
    }
    out
}

fn substitute_variables(expr: &str) -> String {
    let mut out = String::new();
    let mut chars = expr.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' {
            while chars
                .peek()
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
            {
                chars.next();
            }
            out.push('1');
        } else {
            out.push(c);
        }
    }
    out
}

/// RabbitMQ's plugin: the aggregated and the per-queue endpoints, as
/// Prometheus scrapes them (grafana/prometheus/prometheus.yml). A new queue
/// appears in the per-queue metrics with the broker's next statistics
/// emission (every 5 s), so this waits for `queue` to show, up to 30 s.
async fn rabbitmq_scrape(http: &reqwest::Client, queue: &str) -> (String, bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (text, live) = rabbitmq_scrape_once(http).await;
        if !live || text.contains(&format!("queue=\"{queue}\"")) || Instant::now() > deadline {
            return (text, live);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn rabbitmq_scrape_once(http: &reqwest::Client) -> (String, bool) {
    let base = "http://127.0.0.1:15692";
    let detailed =
        "/metrics/detailed?vhost=%2F&family=queue_coarse_metrics&family=queue_consumer_count";
    let mut text = String::new();
    for path in ["/metrics", detailed] {
        match http.get(format!("{base}{path}")).send().await {
            Ok(r) if r.status().is_success() => text.push_str(&r.text().await.unwrap()),
            _ => {
                eprintln!(
                    "RabbitMQ's prometheus plugin is not on :15692; using grafana/fixtures/rabbitmq-prometheus.txt"
                );
                let fixture =
                    std::fs::read_to_string(format!("{FIXTURES}/rabbitmq-prometheus.txt"))
                        .expect("the RabbitMQ fixture");
                return (fixture, false);
            }
        }
    }
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        // One sample line per metric name is all the check needs.
        let mut seen = BTreeSet::new();
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter(|l| seen.insert(l.split(['{', ' ']).next().unwrap_or("").to_string()))
            .collect();
        std::fs::write(
            format!("{FIXTURES}/rabbitmq-prometheus.txt"),
            format!("# Captured from RabbitMQ 3.10.8's rabbitmq_prometheus plugin (/metrics and /metrics/detailed),\n# one sample per metric, by UPDATE_FIXTURES=1 cargo test -p todo-worker --test pipeline alerts.\n{}\n", lines.join("\n")),
        )
        .unwrap();
    }
    (text, true)
}

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
    let port = testkit::free_port().to_string();
    let worker = worker_process(
        &app,
        &mock,
        &[("WORKER_METRICS_PORT", &port), ("OPENAI_RPM", "600")],
    );
    let user = app.signup("alerts@example.com").await;
    // A live stream that sees an event: the SSE metrics exist.
    let mut stream = testkit::EventStream::open(&app, &user, "", None).await;
    app.create_task(&user, json!({"title": "watched live"}))
        .await;
    let event = stream.next_durable().await;
    assert_eq!(event.event, "task.created", "{event:?}");

    // The provider sends x-ratelimit-* headers (remaining, reset), as OpenAI
    // does, for the same limit as OPENAI_RPM below.
    mock.configure(json!({"rpm": 600})).await;
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

    // A reminder fires: the reminder metrics exist.
    let due = (chrono::Utc::now() - chrono::Duration::seconds(1)).to_rfc3339();
    app.create_task(
        &user,
        json!({"title": "reminded", "reminders": [{"at": due}]}),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while sqlx::query_scalar::<_, i64>("SELECT count(*) FROM events WHERE type = 'reminder.due'")
        .fetch_one(&app.pool)
        .await
        .unwrap()
        == 0
    {
        assert!(Instant::now() < deadline, "the reminder fired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

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
    // The queues of this test's prefix are in the per-queue scrape.
    let turns_queue = format!("{}.chat.turns", app.config.broker.prefix);
    let (rabbitmq_scrape, live) = rabbitmq_scrape(&http, &turns_queue).await;
    let node_scrape = std::fs::read_to_string(format!("{FIXTURES}/node-exporter.txt"))
        .expect("the node-exporter fixture");
    assert!(
        !live || rabbitmq_scrape.contains(&format!("queue=\"{turns_queue}\"")),
        "per-queue metrics name {turns_queue}"
    );

    let rules = rules();
    assert!(
        rules.len() >= 10,
        "the rules file holds the alerts: {rules:?}"
    );
    let panels = dashboard_exprs();
    assert!(
        panels.len() >= 40,
        "the dashboards hold their panels: {}",
        panels.len()
    );
    let scrapes = [&api_scrape, &worker_scrape, &rabbitmq_scrape, &node_scrape];
    for (name, expr) in rules.iter().chain(&panels) {
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
                scrapes.iter().any(|s| exported(s)),
                "{name} reads {metric}, which neither the API, a worker, RabbitMQ nor node-exporter exports"
            );
            // What our processes export by our own names is declared in
            // todo_common::metric (metrics-process adds the process_* ones).
            let from_us = !exported(&rabbitmq_scrape) && !exported(&node_scrape);
            assert!(
                !from_us || todo_common::metric::is_ours(metric) || metric.starts_with("process_"),
                "{name} reads {metric}, which todo_common::metric does not declare"
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
