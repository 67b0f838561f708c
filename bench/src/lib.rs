//! What the benchmarks share: starting the real binaries (mock-openai, API,
//! workers) on a fresh database and queue prefix, and reading results.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use sqlx::{Connection, Executor, PgConnection};

pub mod rabbitmq;

/// The shared secret the bench's API signs tokens with (bench-only).
pub const SECRET: &str = "bench-only-secret-0123456789abcdefghijkl";

/// The variables a benchmark that starts its own stack reads, for `--help`.
pub const STACK_ENV_HELP: &str = "Environment:
  BENCH_DATABASE_URL [postgres://postgres@127.0.0.1:5432/postgres]
      A PostgreSQL server where the run may create (and drop) its own database
  BENCH_LOG_LEVEL [error]
      The services' log level (their logs go to stderr)
  BENCH_KEEP_DB [unset]
      Set to keep the run's database for inspection
  BENCH_RABBITMQ_URL [the machine's RabbitMQ]
      RABBITMQ_URL for the services: one URL, or a cluster's nodes separated by commas
  BENCH_SERVICE_ENV [unset]
      More variables for the API and the workers, as space-separated KEY=VALUE
      (e.g. \"MALLOC_ARENA_MAX=2\" or \"LD_PRELOAD=...\" to compare allocator settings)";

/// mock-openai, one API and N workers, killed when dropped; the database is dropped too.
pub struct Stack {
    pub base: String,
    pub mock: String,
    pub db_url: String,
    admin_url: String,
    db_name: String,
    /// The run's RABBITMQ_PREFIX.
    pub prefix: String,
    pub procs: Vec<(String, Child)>,
    bin_dir: String,
    /// What the API and the workers run with (their environment is cleared).
    service_env: Vec<(String, String)>,
    /// What only the workers run with on top (WORKER_CONCURRENCY, pool size...).
    worker_env: Vec<(String, String)>,
    /// Worker i serves its /metrics on `worker_metrics_ports[i]` (127.0.0.1).
    pub worker_metrics_ports: Vec<u16>,
    /// ERROR and WARN lines each service wrote to stderr (passed on to ours).
    logs: Arc<Mutex<BTreeMap<String, LogTally>>>,
}

/// What one service logged at ERROR and WARN, counted from its stderr.
#[derive(Clone, Debug, Default)]
pub struct LogTally {
    pub errors: usize,
    pub warnings: usize,
    /// The first few such lines, for the report.
    pub first: Vec<String>,
}

impl Stack {
    pub async fn start(bin_dir: &str, workers: usize, model_latency_ms: u64) -> Result<Stack> {
        Self::start_with(
            bin_dir,
            workers,
            &json!({ "latency_ms": model_latency_ms }),
            &[],
            &[],
        )
        .await
    }

    /// As `start`, with a full mock-openai config (e.g. `{"latency_ms": 800,
    /// "rpm": 100}`), extra variables for the API and workers, and variables
    /// for the workers only (they win over the others).
    pub async fn start_with(
        bin_dir: &str,
        workers: usize,
        mock_config: &Value,
        extra_env: &[(&str, &str)],
        worker_env: &[(String, String)],
    ) -> Result<Stack> {
        let admin_url = std::env::var("BENCH_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        // Unique per run, also for runs started in the same second.
        let stamp = format!("{}_{}", chrono::Utc::now().timestamp(), std::process::id());
        let db_name = format!("todo_bench_{stamp}");
        let db_url = format!(
            "{}/{db_name}",
            admin_url.rsplit_once('/').context("database URL")?.0
        );
        let prefix = format!("bench_{stamp}");
        // BENCH_LOG_LEVEL=warn shows the services' warnings (on our stderr).
        let log_level = std::env::var("BENCH_LOG_LEVEL").unwrap_or_else(|_| "error".into());
        let mut stack = Stack {
            base: String::new(),
            mock: String::new(),
            db_url,
            admin_url,
            db_name,
            prefix: prefix.clone(),
            procs: Vec::new(),
            bin_dir: bin_dir.to_string(),
            service_env: Vec::new(),
            worker_env: worker_env.to_vec(),
            worker_metrics_ports: Vec::new(),
            logs: Arc::default(),
        };

        // mock-openai prints its address first.
        let mut mock = Command::new(format!("{bin_dir}/mock-openai"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("start mock-openai (cargo build --release first)")?;
        let mut first = String::new();
        BufReader::new(mock.stdout.take().context("mock stdout")?).read_line(&mut first)?;
        stack.mock = first
            .trim()
            .strip_prefix("listening on ")
            .context("mock-openai address")?
            .to_string();
        stack.procs.push(("mock-openai".into(), mock));
        let http = reqwest::Client::new();
        http.post(format!("http://{}/_mock/config", stack.mock))
            .json(mock_config)
            .send()
            .await?
            .error_for_status()?;

        let port = free_port()?;
        let mut service_env: Vec<(String, String)> = [
            ("PATH", std::env::var("PATH").unwrap_or_default()),
            ("DATABASE_URL", stack.db_url.clone()),
            ("RABBITMQ_PREFIX", prefix.clone()),
            ("RABBITMQ_URL", rabbitmq_url()),
            ("RABBITMQ_QUEUE_EXPIRES_SECONDS", "600".into()),
            ("LOG_LEVEL", log_level),
            ("BETTER_AUTH_SECRET", SECRET.into()),
            (
                "SECRET_KEY",
                "bench-only-secret-key-0123456789abcdefghij".into(),
            ),
            ("CHAT_RATE_LIMIT_PER_MINUTE", "100000".into()),
            // Every simulated user signs up from 127.0.0.1.
            ("SIGNUP_MAX_PER_IP", "100000".into()),
            ("OPENAI_BASE_URL", format!("http://{}/v1", stack.mock)),
            ("OPENAI_API_KEY", "sk-bench".into()),
            // The benchmarks measure the model's path (two streamed calls a
            // turn); hybrid would answer their plain commands offline.
            ("ASSISTANT_MODE", "model".into()),
            ("WORKER_METRICS_PORT", "0".into()),
            // bench-mcp starts its own MCP listener; the others need none.
            ("MCP_ENABLED", "false".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        service_env.extend(
            extra_env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        service_env.extend(bench_service_env()?);
        stack.service_env = service_env;
        let mut api = stack.command("todo-api");
        api.env("API_PORT", port.to_string())
            .env("API_HOST", "127.0.0.1");
        let api = stack.spawn("todo-api", api).context("start todo-api")?;
        stack.procs.push(("todo-api".into(), api));
        stack.base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = http.get(format!("{}/health", stack.base)).send().await
                && let Ok(h) = r.json::<Value>().await
                && h["broker_connected"] == true
            {
                break;
            }
            if Instant::now() > deadline {
                bail!("the API did not become healthy");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        for i in 0..workers {
            stack.worker_metrics_ports.push(free_port()?);
            let name = format!("todo-worker-{i}");
            let worker = stack.spawn(&name, stack.worker_command(i));
            stack
                .procs
                .push((name, worker.context("start todo-worker")?));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        Ok(stack)
    }

    /// A service binary with the stack's environment and nothing else.
    fn command(&self, bin: &str) -> Command {
        let mut cmd = Command::new(format!("{}/{bin}", self.bin_dir));
        cmd.env_clear()
            .envs(self.service_env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Worker `i`: the stack's environment, the workers' own variables, and
    /// its metrics port (so the bench can read its gauges).
    fn worker_command(&self, i: usize) -> Command {
        let mut cmd = self.command("todo-worker");
        cmd.envs(self.worker_env.iter().map(|(k, v)| (k, v)));
        if let Some(port) = self.worker_metrics_ports.get(i) {
            cmd.env("WORKER_METRICS_PORT", port.to_string());
        }
        cmd
    }

    /// Spawns a service as `name`; threads pass its output (tracing writes
    /// to stdout) on to our stderr and count the ERROR and WARN lines (the
    /// soak's "0 errors logged").
    fn spawn(&self, name: &str, mut cmd: Command) -> Result<Child> {
        let mut child = cmd.spawn()?;
        let stdout = child.stdout.take().context("service stdout")?;
        let stderr = child.stderr.take().context("service stderr")?;
        self.tally(name, stdout);
        self.tally(name, stderr);
        Ok(child)
    }

    fn tally(&self, name: &str, output: impl std::io::Read + Send + 'static) {
        let (logs, name) = (self.logs.clone(), name.to_string());
        std::thread::spawn(move || {
            for line in BufReader::new(output).lines().map_while(Result::ok) {
                eprintln!("{name}: {line}");
                // Text ("... ERROR target: ...", maybe with colour codes) or
                // JSON ("level":"ERROR").
                let error = line.contains("ERROR");
                if !error && !line.contains("WARN") {
                    continue;
                }
                let mut logs = logs.lock().unwrap_or_else(|e| e.into_inner());
                let tally = logs.entry(name.clone()).or_default();
                if error {
                    tally.errors += 1;
                } else {
                    tally.warnings += 1;
                }
                if tally.first.len() < 5 {
                    tally.first.push(line);
                }
            }
        });
    }

    /// ERROR and WARN lines logged so far, by service (only those that
    /// logged any). The services log at BENCH_LOG_LEVEL (default error).
    pub fn log_tally(&self) -> BTreeMap<String, LogTally> {
        self.logs.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The sum over every worker of the samples of `metric` whose labels
    /// contain `labels` (e.g. `outcome="lease_lost"`; "" for all), read from
    /// their /metrics. A worker that does not answer counts 0.
    pub async fn worker_metric_sum(&self, metric: &str, labels: &str) -> f64 {
        let http = reqwest::Client::new();
        let mut sum = 0.0;
        for port in &self.worker_metrics_ports {
            let url = format!("http://127.0.0.1:{port}/metrics");
            let Ok(text) = async { http.get(&url).send().await?.text().await }.await else {
                continue;
            };
            sum += text
                .lines()
                .filter(|l| {
                    l.strip_prefix(metric)
                        .is_some_and(|rest| rest.starts_with([' ', '{']))
                        && l.contains(labels)
                })
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum::<f64>();
        }
        sum
    }

    /// SIGKILLs worker `i` (as `todo-worker-{i}`), waits until it is gone
    /// and returns its pid; [`Stack::start_worker`] starts it again.
    pub fn kill_worker(&mut self, i: usize) -> Result<u32> {
        let name = format!("todo-worker-{i}");
        let (_, child) = self
            .procs
            .iter_mut()
            .find(|(n, _)| *n == name)
            .with_context(|| format!("no {name}"))?;
        let pid = child.id();
        child.kill()?;
        child.wait()?;
        Ok(pid)
    }

    /// Starts worker `i` again after [`Stack::kill_worker`].
    pub fn start_worker(&mut self, i: usize) -> Result<()> {
        let name = format!("todo-worker-{i}");
        let child = self.spawn(&name, self.worker_command(i))?;
        match self.procs.iter_mut().find(|(n, _)| *n == name) {
            Some((_, old)) => *old = child,
            None => self.procs.push((name, child)),
        }
        Ok(())
    }

    pub fn pid(&self, name: &str) -> Option<u32> {
        self.procs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c.id())
    }

    /// Kills the processes, removes the run's queues and drops the database
    /// (kept, and named, when BENCH_KEEP_DB is set, for looking into a run afterwards).
    pub async fn stop(mut self) -> Result<()> {
        self.kill();
        // Best effort: the queues also expire on their own.
        if let Err(e) = todo_common::queue::Topology::new(&self.prefix)
            .delete_at(&rabbitmq_url())
            .await
        {
            eprintln!("could not remove the run's queues ({e}); they expire in 10 minutes");
        }
        if std::env::var_os("BENCH_KEEP_DB").is_some() {
            eprintln!("kept database {}", self.db_url);
            return Ok(());
        }
        let mut admin = PgConnection::connect(&self.admin_url).await?;
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.db_name
            )))
            .await?;
        Ok(())
    }

    fn kill(&mut self) {
        for (_, c) in &mut self.procs {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The services' RABBITMQ_URL: BENCH_RABBITMQ_URL, else the machine's broker.
fn rabbitmq_url() -> String {
    std::env::var("BENCH_RABBITMQ_URL")
        .unwrap_or_else(|_| todo_common::config::DEFAULT_RABBITMQ_URL.into())
}

/// BENCH_SERVICE_ENV's `KEY=VALUE` pairs (last, so they win).
fn bench_service_env() -> Result<Vec<(String, String)>> {
    let Ok(text) = std::env::var("BENCH_SERVICE_ENV") else {
        return Ok(Vec::new());
    };
    text.split_whitespace()
        .map(|pair| {
            let (k, v) = pair
                .split_once('=')
                .with_context(|| format!("BENCH_SERVICE_ENV: {pair:?} is not KEY=VALUE"))?;
            Ok((k.to_string(), v.to_string()))
        })
        .collect()
}

/// Whether the services are given a cluster (several RabbitMQ addresses).
pub fn broker_is_cluster() -> bool {
    todo_common::config::broker_addresses(&rabbitmq_url()).count() > 1
}

/// A port free on 127.0.0.1 right now.
fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Raises this process's open-file limit to `want` (or as far as the hard
/// limit allows; root may raise that too), before the services are started:
/// they inherit it. Returns the soft limit now in force.
pub fn raise_open_file_limit(want: u64) -> Result<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let now = getrlimit(Resource::Nofile);
    let current = now.current.unwrap_or(u64::MAX);
    if current >= want {
        return Ok(current);
    }
    let raised = Rlimit {
        current: Some(want),
        maximum: Some(now.maximum.map_or(want, |max| max.max(want))),
    };
    if setrlimit(Resource::Nofile, raised).is_err() {
        // Not root: up to the hard limit only.
        let capped = Rlimit {
            current: now.maximum.map(|max| max.min(want)),
            maximum: now.maximum,
        };
        setrlimit(Resource::Nofile, capped).context("raise the open-file limit")?;
    }
    Ok(getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX))
}

/// Resident set size of a process in MiB: current (VmRSS) or peak (VmHWM).
pub fn rss_mib(pid: u32, peak: bool) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let key = if peak { "VmHWM:" } else { "VmRSS:" };
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// The p-th value (0..=1) of sorted samples.
pub fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}
