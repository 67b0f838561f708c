//! Each process's own CPU and memory, and the limits they are measured
//! against, for the checklist's "CPU > 80%" and "memory > 80%" alerts
//! (grafana/prometheus/alerts.yml). Refreshed at every scrape of /metrics.
//!
//! - `process_cpu_seconds_total`, `process_resident_memory_bytes`, `process_open_fds`,
//!   ... : the Prometheus client conventions (metrics-process, from /proc/self).
//! - `process_memory_limit_bytes`: the container's cgroup memory limit
//!   (v2 `memory.max`, v1 `memory.limit_in_bytes`); without one, the host's
//!   `MemTotal`. This is the memory the kernel's OOM killer counts against.
//! - `process_cpu_limit_cores`: the cgroup CPU quota (v2 `cpu.max`, v1
//!   `cpu.cfs_quota_us / cpu.cfs_period_us`); without one, the cores this
//!   process may run on.
//!
//! The limits are read from the process's own view, so a `mem_limit` /
//! `cpus` in docker-compose (or a Kubernetes limit) is what the alert
//! compares with, and an unlimited container is compared with its host.

use crate::metric;
use std::sync::OnceLock;

/// Reads /proc/self and the cgroup limits once per scrape and sets the gauges.
pub fn collect() {
    static COLLECTOR: OnceLock<metrics_process::Collector> = OnceLock::new();
    let collector = COLLECTOR.get_or_init(|| {
        let c = metrics_process::Collector::default();
        c.describe();
        c
    });
    collector.collect();
    let limits = Limits::read();
    if let Some(bytes) = limits.memory_bytes {
        metrics::gauge!(metric::PROCESS_MEMORY_LIMIT_BYTES).set(bytes as f64);
    }
    metrics::gauge!(metric::PROCESS_CPU_LIMIT_CORES).set(limits.cpu_cores);
}

/// The memory and CPU this process may use.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    pub memory_bytes: Option<u64>,
    pub cpu_cores: f64,
}

impl Limits {
    pub fn read() -> Self {
        let file = |path: &str| std::fs::read_to_string(path).ok();
        let memory_bytes = file("/sys/fs/cgroup/memory.max")
            .or_else(|| file("/sys/fs/cgroup/memory/memory.limit_in_bytes"))
            .and_then(|v| cgroup_memory_limit(&v))
            .or_else(|| file("/proc/meminfo").and_then(|v| mem_total(&v)));
        let cpu_cores = file("/sys/fs/cgroup/cpu.max")
            .and_then(|v| cgroup2_cpu_limit(&v))
            .or_else(|| {
                let quota = file("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")?;
                let period = file("/sys/fs/cgroup/cpu/cpu.cfs_period_us")?;
                cgroup1_cpu_limit(&quota, &period)
            })
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()) as f64);
        Self {
            memory_bytes,
            cpu_cores,
        }
    }
}

/// `max` (v2) or a huge number (v1's "unlimited" is close to i64::MAX) is no limit.
fn cgroup_memory_limit(v: &str) -> Option<u64> {
    let bytes: u64 = v.trim().parse().ok()?;
    (bytes > 0 && bytes < 1 << 60).then_some(bytes)
}

/// "MemTotal:  16314116 kB" from /proc/meminfo.
fn mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// cgroup v2 `cpu.max`: "150000 100000" is 1.5 cores; "max 100000" is none.
fn cgroup2_cpu_limit(v: &str) -> Option<f64> {
    let mut parts = v.split_whitespace();
    let quota: f64 = parts.next()?.parse().ok()?;
    let period: f64 = parts.next()?.parse().ok()?;
    (quota > 0.0 && period > 0.0).then(|| quota / period)
}

/// cgroup v1: a quota of -1 is none.
fn cgroup1_cpu_limit(quota: &str, period: &str) -> Option<f64> {
    let quota: f64 = quota.trim().parse().ok()?;
    let period: f64 = period.trim().parse().ok()?;
    (quota > 0.0 && period > 0.0).then(|| quota / period)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_limits_parse_and_unlimited_is_none() {
        assert_eq!(cgroup_memory_limit("536870912\n"), Some(536_870_912));
        assert_eq!(cgroup_memory_limit("max\n"), None);
        assert_eq!(cgroup_memory_limit("9223372036854771712\n"), None);
        assert_eq!(cgroup2_cpu_limit("150000 100000\n"), Some(1.5));
        assert_eq!(cgroup2_cpu_limit("max 100000\n"), None);
        assert_eq!(cgroup1_cpu_limit("-1\n", "100000\n"), None);
        assert_eq!(cgroup1_cpu_limit("200000\n", "100000\n"), Some(2.0));
        assert_eq!(
            mem_total("MemTotal:       16314116 kB\nMemFree: 1 kB\n"),
            Some(16_314_116 * 1024)
        );
    }

    #[test]
    fn this_process_has_limits() {
        let limits = Limits::read();
        assert!(limits.cpu_cores > 0.0, "{limits:?}");
        assert!(limits.memory_bytes.is_some_and(|b| b > 0), "{limits:?}");
    }
}
