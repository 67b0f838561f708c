//! `mock-openai`: serve the mock on 127.0.0.1 until SIGTERM or Ctrl-C. The
//! first line on stdout is `listening on ADDR`, so a parent process can read
//! where to connect. Starting rate limits (restored by `POST /_mock/reset`)
//! come from flags or their environment variables; see `--help`.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use mock_openai::{MockConfig, MockState};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A real HTTP server speaking the OpenAI chat-completions protocol, for
/// tests and benchmarks: answers with the offline assistant, enforces rate
/// limits like OpenAI's, and misbehaves on request (`/_mock/...`).
#[derive(Parser, Debug, PartialEq)]
#[command(name = "mock-openai", version)]
struct Cli {
    /// Port on 127.0.0.1 (0: a random free port).
    #[arg(long, short, env = "MOCK_OPENAI_PORT", default_value_t = 0)]
    port: u16,
    /// Requests per minute before 429 (unset: unlimited).
    #[arg(long, env = "MOCK_OPENAI_RPM", value_parser = positive)]
    rpm: Option<u64>,
    /// Tokens per minute before 429 (unset: unlimited).
    #[arg(long, env = "MOCK_OPENAI_TPM", value_parser = positive)]
    tpm: Option<u64>,
}

fn positive(raw: &str) -> Result<u64, String> {
    match raw.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("not a positive whole number: {raw:?}")),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // Logs go to stderr: stdout carries the address line only.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();

    let config = MockConfig {
        rpm: cli.rpm,
        tpm: cli.tpm,
        ..MockConfig::default()
    };
    let listener = match TcpListener::bind(("127.0.0.1", cli.port)).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("mock-openai: cannot listen on 127.0.0.1:{}: {e}", cli.port);
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

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::Cli;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("mock-openai").chain(args.iter().copied()))
    }

    #[test]
    fn flags_parse_and_bad_values_are_refused() {
        let cli = parse(&["--port", "9000", "--rpm", "60", "--tpm", "90000"]).unwrap();
        assert_eq!((cli.port, cli.rpm, cli.tpm), (9000, Some(60), Some(90_000)));
        assert_eq!(parse(&["-p", "9001"]).unwrap().port, 9001);
        for bad in [
            &["--port"][..],
            &["--port", "70000"],
            &["serve"],
            &["--rpm", "0"],
            &["--tpm", "-5"],
            &["--rpm", "lots"],
        ] {
            let err = parse(bad).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad:?}");
        }
    }
}
