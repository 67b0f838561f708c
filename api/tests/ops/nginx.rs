//! deploy/nginx/nginx.conf run by the real nginx, in front of stub upstreams
//! that say which of them was asked for which path: what a client reaches
//! through each server block. (`nginx -t` also runs in scripts/ops-check.sh,
//! which installs nginx; without it here, these tests say so and pass.)

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::Uri;
use testkit::{LoggedProcess, free_port};

use crate::root;

/// The nginx binary, when this machine has one.
fn nginx_binary() -> Option<&'static str> {
    ["nginx", "/usr/sbin/nginx"].into_iter().find(|bin| {
        Command::new(bin)
            .arg("-v")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// An upstream that answers every path with `<name> saw <path>`.
async fn stub(name: &'static str) -> u16 {
    let app =
        Router::new().fallback(move |uri: Uri| async move { format!("{name} saw {}", uri.path()) });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

/// Our nginx.conf with its listen ports and upstreams moved to this
/// machine, run in the foreground as one process; stopped when dropped.
struct Nginx {
    process: Option<LoggedProcess>,
    dir: PathBuf,
    mcp_port: u16,
}

impl Nginx {
    async fn start(bin: &str, api_upstream: u16, mcp_upstream: u16) -> Self {
        let (api_port, mcp_port) = (free_port(), free_port());
        let mut conf = std::fs::read_to_string(root().join("deploy/nginx/nginx.conf")).unwrap();
        for (from, to) in [
            ("listen 8080;", format!("listen 127.0.0.1:{api_port};")),
            ("listen 5555;", format!("listen 127.0.0.1:{mcp_port};")),
            (
                "http://api:8000;",
                format!("http://127.0.0.1:{api_upstream};"),
            ),
            (
                "http://api:5555;",
                format!("http://127.0.0.1:{mcp_upstream};"),
            ),
        ] {
            assert!(conf.contains(from), "nginx.conf no longer has `{from}`");
            conf = conf.replace(from, &to);
        }
        let dir = std::env::temp_dir().join(format!("nginx-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let mut cmd = Command::new(bin);
        cmd.arg("-p")
            .arg(&dir)
            .args(["-e", "stderr", "-c"])
            .arg(&conf_path)
            .arg("-g")
            .arg(format!(
                "daemon off; master_process off; pid {};",
                dir.join("nginx.pid").display()
            ));
        let process = LoggedProcess::spawn(cmd);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", mcp_port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nginx did not start:\n{}",
                process.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self {
            process: Some(process),
            dir,
            mcp_port,
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // The process stops before its directory goes.
        drop(self.process.take());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn get(port: u16, path: &str) -> (u16, String) {
    let res = reqwest::get(format!("http://127.0.0.1:{port}{path}"))
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn the_mcp_block_forwards_the_mcp_endpoint_and_its_oauth_metadata_only() {
    let Some(bin) = nginx_binary() else {
        eprintln!("SKIP: nginx is not installed (scripts/ops-check.sh installs it)");
        return;
    };
    let nginx = Nginx::start(bin, stub("api").await, stub("mcp").await).await;
    // A 401 from /mcp sends clients to the metadata (RFC 9728); unreachable,
    // they cannot find where to sign in (issue 19).
    for path in [
        "/mcp",
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        assert_eq!(
            get(nginx.mcp_port, path).await,
            (200, format!("mcp saw {path}")),
            "{path}"
        );
    }
    // Nothing else of the API is reachable through the MCP port.
    for path in ["/metrics", "/api/auth/login", "/.well-known/jwks.json"] {
        let (status, body) = get(nginx.mcp_port, path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert!(!body.contains("saw"), "{path} reached an upstream: {body}");
    }
}
