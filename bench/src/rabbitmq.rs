//! RabbitMQ nodes on this machine, driven with `rabbitmqctl` for the
//! broker-restart benchmarks (bench-load `--restart-broker-at`): which nodes
//! are up, which one leads a quorum queue, stopping and starting one.
//!
//! A node is named as `rabbitmqctl -n` takes it; `None` is the machine's own.
//! Each call starts an Erlang VM (about a second here): these are blocking.

use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// `rabbitmqctl [-n node] <args>`; its output when it succeeds.
fn ctl(node: Option<&str>, args: &[&str]) -> Result<String> {
    let mut cmd = Command::new("rabbitmqctl");
    if let Some(node) = node {
        cmd.args(["-n", node]);
    }
    let out = cmd.args(args).output().context("run rabbitmqctl")?;
    if !out.status.success() {
        // Its usage text follows the error: the first line says it.
        let err = String::from_utf8_lossy(&out.stderr);
        bail!(
            "rabbitmqctl {}: {}",
            args.join(" "),
            err.lines().next().unwrap_or("failed").trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `rabbitmqctl [-n node] stop_app` or `start_app`: the node's RabbitMQ
/// application stops or starts; its Erlang node stays up.
pub fn app(node: Option<&str>, action: &str) -> Result<()> {
    ctl(node, &[action]).map(drop)
}

/// A cluster as one of its nodes sees it.
#[derive(Clone, Debug, Default)]
pub struct ClusterView {
    /// Nodes whose RabbitMQ application is running.
    pub running: Vec<String>,
    /// Every member of the cluster, running or not.
    pub members: Vec<String>,
}

impl ClusterView {
    /// Asked of `node`; fails when that node's application is not running.
    pub fn of(node: Option<&str>) -> Result<ClusterView> {
        let out = ctl(node, &["-q", "cluster_status", "--formatter", "json"])?;
        let v: Value = serde_json::from_str(&out).context("cluster_status output")?;
        let names = |key: &str| -> Vec<String> {
            v[key]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect()
        };
        let mut members = names("disk_nodes");
        members.extend(names("ram_nodes"));
        Ok(ClusterView {
            running: names("running_nodes"),
            members,
        })
    }
}

/// The node that leads quorum queue `queue`, as node `ask` sees it.
pub fn leader_of(queue: &str, ask: &str) -> Result<String> {
    let out = ctl(
        Some(ask),
        &["-q", "--no-table-headers", "list_queues", "name", "leader"],
    )?;
    out.lines()
        .find_map(|l| {
            let (name, leader) = l.split_once('\t')?;
            (name == queue).then(|| leader.trim().to_string())
        })
        .with_context(|| format!("no leader of {queue} on {ask}"))
}

/// What `--broker-node` names: a node, or whichever node leads the run's
/// turn queue at the moment of each stop (`leader:<node>`, asked of <node>).
#[derive(Clone, Debug)]
pub enum Target {
    /// The machine's own node (None) or the one named.
    Node(Option<String>),
    /// The leader of the queue, asked of this node first.
    LeaderAskedOf(String),
}

impl Target {
    pub fn parse(v: Option<&str>) -> Target {
        match v {
            Some(v) => match v.strip_prefix("leader:") {
                Some(ask) => Target::LeaderAskedOf(ask.to_string()),
                None => Target::Node(Some(v.to_string())),
            },
            None => Target::Node(None),
        }
    }

    /// The cluster's members as the node to ask sees them now, so that
    /// another can be asked while that one is down; none when it cannot say.
    pub fn members(&self) -> Vec<String> {
        match self {
            Target::LeaderAskedOf(ask) => ClusterView::of(Some(ask))
                .map(|v| v.members)
                .unwrap_or_default(),
            Target::Node(_) => Vec::new(),
        }
    }

    /// The node to stop now, and the cluster as seen just before. For a
    /// leader, asked of the given node or, when that one is down, of the
    /// first other member that is up (`members` collects those seen so far).
    /// Fails, refusing the stop, when the node is already down.
    pub fn pick(
        &self,
        queue: &str,
        members: &mut Vec<String>,
    ) -> Result<(Option<String>, ClusterView)> {
        let ask = match self {
            Target::Node(node) => {
                let view = ClusterView::of(node.as_deref()).with_context(|| {
                    format!("{} is already down", node.as_deref().unwrap_or("the node"))
                })?;
                if let Some(node) = node
                    && !view.running.contains(node)
                {
                    bail!("{node} is already down");
                }
                return Ok((node.clone(), view));
            }
            Target::LeaderAskedOf(ask) => ask,
        };
        if !members.contains(ask) {
            members.insert(0, ask.clone());
        }
        let mut asked = Vec::new();
        for node in members.clone() {
            let Ok(view) = ClusterView::of(Some(&node)) else {
                asked.push(node);
                continue;
            };
            for m in &view.members {
                if !members.contains(m) {
                    members.push(m.clone());
                }
            }
            let leader = leader_of(queue, &node)?;
            if !view.running.contains(&leader) {
                bail!("{leader}, which {node} names as the leader of {queue}, is already down");
            }
            return Ok((Some(leader), view));
        }
        bail!(
            "no node is up to ask for the leader ({} down)",
            asked.join(", ")
        )
    }
}
