//! One cancellation signal per process: SIGTERM (orchestrators) or Ctrl-C
//! cancels the token; servers drain, streams end, consumers stop.

use crate::error::ErrorChain;
use tokio_util::sync::CancellationToken;

pub async fn cancel_on_signal(token: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e.chain(), "no SIGTERM handler; Ctrl-C only");
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutdown signal received");
    token.cancel();
}
