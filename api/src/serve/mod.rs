//! The API's accept loop: HTTP/1.1 straight on hyper's HTTP/1 connection.
//!
//! `axum::serve` hands every connection to hyper-util's "auto" builder,
//! which first reads the request's opening bytes to tell HTTP/1 from
//! HTTP/2. hyper's read buffer then starts with those bytes and grows from
//! 8 KiB to 16 KiB for the rest of the head, and keeps that for the life of
//! the connection: 8 KiB more for every open event stream (issue 23). The
//! API speaks HTTP/1.1 only (a proxy in front speaks HTTP/2 to browsers),
//! so connections go to hyper's HTTP/1 builder directly; a connection that
//! opens with an event-stream request is answered without hyper at all
//! (`event_stream`). Otherwise as `axum::serve`: `ConnectInfo<SocketAddr>`,
//! upgrades, TCP_NODELAY, and on `shutdown` no new connections while open
//! ones finish.

mod event_stream;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tower::{Service, ServiceExt};

use event_stream::{First, Rewind};

/// Serves `app` on `listener` until `shutdown`; then stops accepting and
/// returns once every open connection has ended.
pub async fn http1(
    listener: TcpListener,
    app: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let mut make_service = app.into_make_service_with_connect_info::<SocketAddr>();
    // Each connection holds a sender; `recv` returns None once all are gone.
    let (open, mut all_closed) = mpsc::channel::<Infallible>(1);
    loop {
        let (tcp, remote) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: as axum::serve,
                    // wait a moment rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            },
        };
        // Without TCP_NODELAY, a small write behind another (an SSE event
        // after the previous one) waits for the client's delayed ACK, up to 40 ms.
        let _ = tcp.set_nodelay(true);
        let Ok(router) = make_service.call(remote).await;
        let (open, shutdown) = (open.clone(), shutdown.clone());
        tokio::spawn(async move {
            let _open = open;
            let mut tcp = tcp;
            let first = tokio::select! {
                first = event_stream::read(&mut tcp) => first,
                _ = shutdown.cancelled() => return,
            };
            match first {
                // Boxed, here and below: the task is as large as its largest
                // state, and an idle stream should not carry hyper's.
                Ok(First::EventStream(request)) => {
                    let Ok(response) = Box::pin(router.oneshot(*request)).await;
                    event_stream::respond(tcp, response).await;
                }
                Ok(First::Other(read)) => {
                    Box::pin(hyper_connection(Rewind::new(read, tcp), router, shutdown)).await;
                }
                // Reset before it said anything.
                Err(_) => {}
            }
        });
    }
    drop(listener);
    drop(open);
    let _ = all_closed.recv().await;
    Ok(())
}

/// One connection served by hyper until it closes, or until `shutdown` and
/// the request in progress (if any) has been answered.
async fn hyper_connection<S>(io: Rewind, router: S, shutdown: CancellationToken)
where
    S: Service<Request, Response = axum::response::Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
{
    let service =
        TowerToHyperService::new(router.map_request(|req: Request<Incoming>| req.map(Body::new)));
    let mut conn = pin!(
        hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(io), service)
            .with_upgrades()
    );
    tokio::select! {
        // Errors are the client's (a reset, a bad request): nothing to do.
        _ = conn.as_mut() => return,
        _ = shutdown.cancelled() => conn.as_mut().graceful_shutdown(),
    }
    let _ = conn.await;
}
