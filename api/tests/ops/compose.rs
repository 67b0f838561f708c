//! docker-compose.yml cannot run here (no Docker engine), so what can be
//! checked statically is: every variable given to our services is one the
//! binaries read and docs/configuration.md documents; no secret has a
//! default; every long-running service has a healthcheck and rotated logs;
//! only nginx publishes ports beyond 127.0.0.1; and the ports and paths that
//! tie compose, nginx, Prometheus and Alertmanager together agree. (`docker-compose config -q` runs in
//! scripts/ops-check.sh when Debian's docker-compose is installable.)

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml_ng::Value;

use crate::root;

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn compose() -> Value {
    let mut v: Value = serde_yaml_ng::from_str(&read("docker-compose.yml")).expect("valid YAML");
    v.apply_merge().expect("merge keys resolve");
    v
}

fn services(c: &Value) -> BTreeMap<String, Value> {
    c["services"]
        .as_mapping()
        .expect("services")
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_string(), v.clone()))
        .collect()
}

fn env(service: &Value) -> BTreeMap<String, String> {
    service["environment"]
        .as_mapping()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let value = match v {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        _ => String::new(),
                    };
                    (k.as_str().unwrap().to_string(), value)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The variables a binary reads, from the configuration's own declaration.
fn variables_read<T: todo_common::config::Settings>() -> BTreeSet<String> {
    todo_common::config::describe::<T>()
        .into_iter()
        .map(|v| v.name.to_string())
        .collect()
}

/// Variables named in docs/configuration.md's tables.
fn variables_documented() -> BTreeSet<String> {
    let docs = read("docs/configuration.md");
    let mut out = BTreeSet::new();
    for line in docs.lines().filter(|l| l.starts_with("| `")) {
        let first = line.split('|').nth(1).unwrap_or("");
        for name in first.split('`').skip(1).step_by(2) {
            out.insert(name.to_string());
        }
    }
    out
}

/// The services built from this repository (todo-api / todo-worker).
fn app_services(c: &Value) -> BTreeMap<String, Value> {
    services(c)
        .into_iter()
        .filter(|(_, s)| s.get("build").is_some())
        .collect()
}

#[test]
fn every_variable_given_to_our_services_is_read_and_documented() {
    let c = compose();
    let worker = variables_read::<todo_common::WorkerConfig>();
    // `todo-api preflight`, run in the api service (docs/deployment.md),
    // also checks the worker's model settings.
    let mut api = variables_read::<todo_common::ApiConfig>();
    api.extend(
        todo_common::config::describe::<todo_common::WorkerConfig>()
            .into_iter()
            .filter(|v| v.section == "model")
            .map(|v| v.name.to_string()),
    );
    let documented = variables_documented();
    let apps = app_services(&c);
    assert_eq!(
        apps.keys().map(String::as_str).collect::<Vec<_>>(),
        ["api", "migrate", "worker"]
    );
    for (name, service) in &apps {
        // `migrate` runs `todo-api migrate up`.
        let (binary, read) = match name.as_str() {
            "worker" => ("todo-worker", &worker),
            _ => ("todo-api", &api),
        };
        for var in env(service).keys() {
            assert!(
                read.contains(var),
                "{name}: {var} is not read by {binary} (common/src/config/)"
            );
            assert!(
                documented.contains(var),
                "{name}: {var} is not in docs/configuration.md"
            );
        }
    }
}

#[test]
fn no_secret_has_a_default() {
    let c = compose();
    let secretish = |k: &str| {
        ["SECRET", "PASSWORD", "PASS", "KEY", "TOKEN"]
            .iter()
            .any(|s| k.contains(s))
    };
    for (name, service) in services(&c) {
        for (var, value) in env(&service) {
            if secretish(&var) {
                // Either required (${VAR:?...}) or optional and empty by default.
                let required = value.starts_with("${") && value.contains(":?");
                let empty_default = value.starts_with("${") && value.ends_with(":-}");
                assert!(
                    required || empty_default,
                    "{name}: {var} has a default or a literal value: {value}"
                );
            }
            // Credentials inside URLs come from required variables too.
            if let Some((_, rest)) = value.split_once("://")
                && let Some((userinfo, _)) = rest.split_once('@')
                && let Some((_, password)) = userinfo.split_once(':')
            {
                assert!(
                    password.starts_with("${") && password.contains(":?"),
                    "{name}: {var} has a literal password"
                );
            }
        }
    }
}

#[test]
fn long_running_services_have_healthchecks_rotated_logs_and_restarts() {
    let c = compose();
    for (name, service) in services(&c) {
        let one_shot = service["restart"].as_str() == Some("no");
        if !one_shot {
            let test = &service["healthcheck"]["test"];
            assert!(test.is_sequence(), "{name} has no healthcheck");
            assert_eq!(
                service["restart"].as_str(),
                Some("unless-stopped"),
                "{name}"
            );
        }
        let logging = &service["logging"];
        assert_eq!(logging["driver"].as_str(), Some("json-file"), "{name}");
        assert!(
            logging["options"]["max-size"].is_string(),
            "{name}: log rotation"
        );
        assert!(
            logging["options"]["max-file"].is_string(),
            "{name}: log rotation"
        );
    }
    // Our images have no curl: they check themselves with `todo-api healthcheck`.
    for (name, service) in app_services(&c) {
        if let Some(test) = service["healthcheck"]["test"].as_sequence() {
            assert_eq!(test[1].as_str(), Some("todo-api"), "{name}");
            assert_eq!(test[2].as_str(), Some("healthcheck"), "{name}");
        }
    }
    let dockerfile = read("Dockerfile");
    assert!(
        dockerfile.contains("target/release/todo-api")
            && dockerfile.contains("target/release/todo-worker")
    );
}

#[test]
fn the_api_runs_replicated_behind_nginx_and_workers_scale() {
    let c = compose();
    let s = services(&c);
    assert!(s["api"]["deploy"]["replicas"].as_u64().unwrap() >= 2);
    assert!(s["worker"]["deploy"]["replicas"].as_u64().unwrap() >= 1);
    // Replicas cannot publish the same host port: only nginx publishes.
    assert!(
        s["api"].get("ports").is_none(),
        "the API is reached through nginx"
    );
    assert!(
        s["worker"].get("ports").is_none(),
        "--scale worker=N needs no host ports"
    );
    let header = read("docker-compose.yml");
    assert!(
        header.contains("--scale worker="),
        "scaling workers is documented in the file"
    );
}

/// The host address a `ports:` entry publishes on: `"127.0.0.1:9090:9090"`
/// or `{host_ip: 127.0.0.1, ...}`; None for every interface (`"9090:9090"`, `9090`).
fn published_on(entry: &Value) -> Option<String> {
    match entry {
        Value::String(short) => {
            let parts: Vec<&str> = short.split(':').collect();
            (parts.len() == 3).then(|| parts[0].to_string())
        }
        Value::Mapping(_) => entry["host_ip"].as_str().map(String::from),
        _ => None,
    }
}

#[test]
fn only_the_public_entry_point_is_published_beyond_this_host() {
    // Grafana, Prometheus, Alertmanager and RabbitMQ management are admin
    // and monitoring consoles: on every interface, anyone who reaches the
    // host can try their logins or read the metrics (issue 19). Operators
    // reach them through an SSH tunnel (docs/deployment.md).
    let c = compose();
    let s = services(&c);
    for (name, service) in s.iter().filter(|(n, _)| *n != "nginx") {
        for entry in service["ports"].as_sequence().into_iter().flatten() {
            assert_eq!(
                published_on(entry).as_deref(),
                Some("127.0.0.1"),
                "{name} publishes {entry:?} beyond this host"
            );
        }
    }
    // nginx is the public entry point: the app on the README's port 8000.
    let nginx: Vec<&str> = s["nginx"]["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(nginx.contains(&"8000:8080"), "{nginx:?}");
    assert!(read("README.md").contains("http://localhost:8000"));
    let deployment = read("docs/deployment.md");
    assert!(
        deployment.contains("-L 3001:127.0.0.1:3001"),
        "docs/deployment.md says how to reach the consoles"
    );
}

fn port_of(value: &str) -> u16 {
    value
        .trim_matches('"')
        .parse()
        .unwrap_or_else(|_| panic!("not a port: {value}"))
}

#[test]
fn ports_and_paths_agree_across_compose_nginx_prometheus_and_alertmanager() {
    let c = compose();
    let s = services(&c);
    let api_env = env(&s["api"]);
    let worker_env = env(&s["worker"]);
    let api_port = api_env.get("API_PORT").map_or(8000, |p| port_of(p));
    let metrics_port = port_of(&api_env["METRICS_PORT"]);
    let mcp_port = port_of(&api_env["MCP_SERVER_PORT"]);
    let worker_metrics = port_of(&worker_env["WORKER_METRICS_PORT"]);

    // nginx: upstreams are the API's ports; it listens where compose publishes.
    let nginx = read("deploy/nginx/nginx.conf");
    assert!(
        nginx.contains(&format!("http://api:{api_port};")),
        "nginx -> API_PORT"
    );
    assert!(
        nginx.contains(&format!("http://api:{mcp_port};")),
        "nginx -> MCP_SERVER_PORT"
    );
    assert!(nginx.contains("location /mcp"), "the MCP server's path");
    assert!(
        nginx.contains("proxy_buffering off"),
        "SSE needs unbuffered proxying"
    );
    assert!(
        nginx.contains("proxy_read_timeout 1h"),
        "idle SSE streams are not cut"
    );
    let published: Vec<String> = s["nginx"]["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    for p in &published {
        let inside = p.rsplit(':').next().unwrap();
        assert!(
            nginx.contains(&format!("listen {inside};")),
            "nginx listens on {inside}"
        );
    }
    assert!(
        published
            .iter()
            .any(|p| p.ends_with(&format!(":{mcp_port}")))
    );
    // The API trusts nginx's X-Forwarded-For, and only nginx's.
    let nginx_ip = s["nginx"]["networks"]["default"]["ipv4_address"]
        .as_str()
        .unwrap();
    assert_eq!(api_env["TRUSTED_PROXIES"], nginx_ip);

    // Prometheus scrapes the ports the services serve /metrics on.
    let prometheus = read("grafana/prometheus/prometheus.yml");
    let prom: Value = serde_yaml_ng::from_str(&prometheus).unwrap();
    let jobs: BTreeMap<String, Value> = prom["scrape_configs"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|j| (j["job_name"].as_str().unwrap().to_string(), j.clone()))
        .collect();
    assert_eq!(
        jobs["todo-api"]["dns_sd_configs"][0]["port"].as_u64(),
        Some(metrics_port.into())
    );
    assert_eq!(
        jobs["todo-api"]["dns_sd_configs"][0]["names"][0].as_str(),
        Some("api")
    );
    assert_eq!(
        jobs["todo-worker"]["dns_sd_configs"][0]["port"].as_u64(),
        Some(worker_metrics.into())
    );
    assert_eq!(
        jobs["todo-worker"]["dns_sd_configs"][0]["names"][0].as_str(),
        Some("worker")
    );
    assert_eq!(
        jobs["rabbitmq"]["static_configs"][0]["targets"][0].as_str(),
        Some("rabbitmq:15692")
    );
    assert_eq!(
        jobs["node"]["static_configs"][0]["targets"][0].as_str(),
        Some("node-exporter:9100")
    );
    assert!(
        s.contains_key("node-exporter")
            && s.contains_key("alertmanager")
            && s.contains_key("alert-log")
    );
    // The worker's healthcheck asks its metrics listener.
    let worker_check: Vec<&str> = s["worker"]["healthcheck"]["test"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(worker_check.contains(&format!("http://127.0.0.1:{worker_metrics}/health").as_str()));
    // RabbitMQ's plugin is enabled in the container.
    assert!(read("deploy/rabbitmq/enabled_plugins").contains("rabbitmq_prometheus"));

    // Rules and Alertmanager are where Prometheus looks for them.
    let rule_file = prom["rule_files"][0].as_str().unwrap();
    let am = prom["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"][0]
        .as_str()
        .unwrap();
    assert_eq!(am, "alertmanager:9093");
    let alertmanager: Value =
        serde_yaml_ng::from_str(&read("grafana/alertmanager/alertmanager.yml")).unwrap();
    let hook = alertmanager["receivers"][0]["webhook_configs"][0]["url"]
        .as_str()
        .unwrap();
    let alert_log_port = env(&s["alert-log"])["ALERT_LOG_PORT"].clone();
    assert_eq!(hook, format!("http://alert-log:{alert_log_port}/alerts"));

    // Every bind mount exists, and the mounted files are the ones referenced.
    let mut targets = BTreeSet::new();
    for (name, service) in &s {
        for volume in service["volumes"].as_sequence().into_iter().flatten() {
            let v = volume.as_str().unwrap();
            let mut parts = v.split(':');
            let (source, target) = (parts.next().unwrap(), parts.next().unwrap_or(""));
            targets.insert(target.to_string());
            if let Some(path) = source.strip_prefix("./") {
                assert!(
                    root().join(path).exists(),
                    "{name}: {source} does not exist"
                );
            }
        }
    }
    assert!(
        targets.contains(rule_file),
        "alerts.yml is mounted at {rule_file}"
    );
    assert!(targets.contains("/etc/alertmanager/alertmanager.yml"));
    assert!(targets.contains("/etc/nginx/nginx.conf"));
    assert!(targets.contains("/var/lib/grafana/dashboards"));
    let provisioning = read("grafana/provisioning/dashboards/dashboards.yml");
    assert!(provisioning.contains("path: /var/lib/grafana/dashboards"));
    let datasource = read("grafana/provisioning/datasources/prometheus.yml");
    assert!(datasource.contains("url: http://prometheus:9090"));
}
