//! `mock-openai [--port N]`: serve the mock on 127.0.0.1 until SIGTERM or
//! Ctrl-C. The port comes from `--port`, else `MOCK_OPENAI_PORT`, else 0 (a
//! random free port). The first line on stdout is `listening on ADDR`, so a
//! parent process can read where to connect. `MOCK_OPENAI_RPM` and
//! `MOCK_OPENAI_TPM` set starting rate limits (requests and tokens per
//! minute; unset or empty = unlimited), which `POST /_mock/reset` restores.

use std::io::Write;
use std::process::ExitCode;

use mock_openai::{MockConfig, MockState};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const USAGE: &str = "usage: mock-openai [--port N]   (env MOCK_OPENAI_PORT; default 0 = random)
env MOCK_OPENAI_RPM, MOCK_OPENAI_TPM: rate limits per minute (default unlimited)";

#[tokio::main]
async fn main() -> ExitCode {
    // Logs go to stderr: stdout carries the address line only.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();

    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = match port(&args, std::env::var("MOCK_OPENAI_PORT").ok().as_deref()) {
        Ok(Some(port)) => port,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(problem) => {
            eprintln!("mock-openai: {problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let env = |name: &str| std::env::var(name).ok();
    let config = match limits(
        env("MOCK_OPENAI_RPM").as_deref(),
        env("MOCK_OPENAI_TPM").as_deref(),
    ) {
        Ok(config) => config,
        Err(problem) => {
            eprintln!("mock-openai: {problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind(("127.0.0.1", port)).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("mock-openai: cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let address = match listener.local_addr() {
        Ok(address) => address,
        Err(e) => {
            eprintln!("mock-openai: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout();
    if writeln!(stdout, "listening on {address}")
        .and_then(|()| stdout.flush())
        .is_err()
    {
        // Nobody can learn the address; still serve (the port may be fixed).
        eprintln!("mock-openai: listening on {address}");
    }

    let shutdown = CancellationToken::new();
    tokio::spawn(todo_common::shutdown::cancel_on_signal(shutdown.clone()));
    let stopped = async move { shutdown.cancelled().await };
    match mock_openai::serve_with_shutdown(listener, MockState::with_config(config), stopped).await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mock-openai: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The port to use; `None` when help was asked for.
fn port(args: &[String], env: Option<&str>) -> Result<Option<u16>, String> {
    let parse = |raw: &str| -> Result<u16, String> {
        raw.trim()
            .parse()
            .map_err(|_| format!("not a port number: {raw:?}"))
    };
    let mut port = match env.filter(|v| !v.trim().is_empty()) {
        Some(raw) => parse(raw).map_err(|e| format!("MOCK_OPENAI_PORT: {e}"))?,
        None => 0,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--port" | "-p" => {
                let raw = args.next().ok_or("--port needs a value")?;
                port = parse(raw)?;
            }
            other => match other.strip_prefix("--port=") {
                Some(raw) => port = parse(raw)?,
                None => return Err(format!("unknown argument {other:?}")),
            },
        }
    }
    Ok(Some(port))
}

/// The starting configuration: rate limits from `MOCK_OPENAI_RPM` and
/// `MOCK_OPENAI_TPM` (unset or empty = unlimited).
fn limits(rpm: Option<&str>, tpm: Option<&str>) -> Result<MockConfig, String> {
    let parse = |name: &str, raw: Option<&str>| -> Result<Option<u64>, String> {
        match raw.map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(raw) => match raw.parse::<u64>() {
                Ok(limit) if limit > 0 => Ok(Some(limit)),
                _ => Err(format!("{name}: not a positive whole number: {raw:?}")),
            },
        }
    };
    Ok(MockConfig {
        rpm: parse("MOCK_OPENAI_RPM", rpm)?,
        tpm: parse("MOCK_OPENAI_TPM", tpm)?,
        ..MockConfig::default()
    })
}

#[cfg(test)]
mod tests {
    use super::{limits, port};

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn port_from_flag_env_or_default() {
        assert_eq!(port(&args(&[]), None), Ok(Some(0)));
        assert_eq!(port(&args(&[]), Some("8089")), Ok(Some(8089)));
        assert_eq!(
            port(&args(&["--port", "9000"]), Some("8089")),
            Ok(Some(9000))
        );
        assert_eq!(port(&args(&["--port=9001"]), None), Ok(Some(9001)));
        assert_eq!(port(&args(&["--help"]), None), Ok(None));
        assert!(port(&args(&["--port"]), None).is_err());
        assert!(port(&args(&["--port", "70000"]), None).is_err());
        assert!(port(&args(&["serve"]), None).is_err());
        assert!(port(&args(&[]), Some("x")).is_err());
    }

    #[test]
    fn rate_limits_from_env() {
        let config = limits(None, None).expect("unset");
        assert_eq!((config.rpm, config.tpm), (None, None));
        let config = limits(Some(""), Some(" ")).expect("empty");
        assert_eq!((config.rpm, config.tpm), (None, None));
        let config = limits(Some("60"), Some(" 90000 ")).expect("set");
        assert_eq!((config.rpm, config.tpm), (Some(60), Some(90_000)));
        assert_eq!(config.latency_ms, 0);
        assert!(limits(Some("0"), None).is_err());
        assert!(limits(None, Some("-5")).is_err());
        assert!(limits(Some("lots"), None).is_err());
    }
}
