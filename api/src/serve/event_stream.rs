//! Event streams served off hyper (issue 23: at most 12 KiB an idle stream).
//!
//! hyper keeps two 8 KiB buffers for every HTTP/1 connection for its whole
//! life (a read buffer, and a write buffer for response heads), and offers
//! no setting to shrink either: two thirds of what an idle event stream
//! cost. A stream writes its head once and then only small frames, so a
//! connection whose first request is `GET /api/{user}/events` is answered
//! here instead: the same router (every middleware, the same handler)
//! makes the response, and this module writes it (head, then the body in
//! chunks), closes the connection after it, and notices a client that goes
//! away. Everything else, and anything unusual about such a request (a
//! body, an upgrade, HTTP/1.0, bytes after the head, a head over 8 KiB), is
//! handed to hyper with the bytes read so far, so hyper stays the one
//! authority on HTTP/1 and on every error it answers.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, Version, header};
use axum::response::Response;
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

/// The most of a first request's head read before handing it to hyper.
const MAX_HEAD: usize = 8 * 1024;
/// Headers an event-stream request may carry (a browser sends about 15).
const MAX_HEADERS: usize = 48;

/// What a connection's first bytes turned out to be.
pub enum First {
    /// A request for an event stream, whole; nothing came after its head.
    EventStream(Box<Request>),
    /// Anything else: the bytes read so far, for hyper to read first.
    Other(Vec<u8>),
}

/// Reads the connection's first request head far enough to tell an event
/// stream from anything else.
pub async fn read(tcp: &mut TcpStream) -> io::Result<First> {
    let mut buf = Vec::with_capacity(1024);
    loop {
        if buf.len() == buf.capacity() {
            buf.reserve(1024);
        }
        if tcp.read_buf(&mut buf).await? == 0 {
            return Ok(First::Other(buf));
        }
        match parse(&buf) {
            Parsed::EventStream(request) => return Ok(First::EventStream(request)),
            Parsed::Partial if buf.len() < MAX_HEAD => {}
            Parsed::Partial | Parsed::Other => return Ok(First::Other(buf)),
        }
    }
}

enum Parsed {
    EventStream(Box<Request>),
    Partial,
    Other,
}

fn is_event_stream_path(path: &str) -> bool {
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    let mut parts = path.split('/');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next()),
        (Some(""), Some("api"), Some(user), Some("events"), None) if !user.is_empty()
    )
}

fn parse(buf: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut head = httparse::Request::new(&mut headers);
    let status = head.parse(buf);
    if head.method.is_some_and(|m| m != "GET") {
        return Parsed::Other;
    }
    let Some(path) = head.path else {
        return match status {
            Ok(httparse::Status::Partial) => Parsed::Partial,
            _ => Parsed::Other,
        };
    };
    if !is_event_stream_path(path) {
        return Parsed::Other;
    }
    let len = match status {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(_) => return Parsed::Other,
    };
    // Pipelined bytes, or HTTP/1.0 (no chunked answers): hyper's.
    if len != buf.len() || head.version != Some(1) {
        return Parsed::Other;
    }
    let mut request = Request::new(Body::empty());
    *request.method_mut() = Method::GET;
    *request.version_mut() = Version::HTTP_11;
    let Ok(uri) = path.parse() else {
        return Parsed::Other;
    };
    *request.uri_mut() = uri;
    for h in head.headers.iter() {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(h.name.as_bytes()),
            HeaderValue::from_bytes(h.value),
        ) else {
            return Parsed::Other;
        };
        // A body, an upgrade or a connection option is hyper's to handle.
        if name == header::CONTENT_LENGTH
            || name == header::TRANSFER_ENCODING
            || name == header::UPGRADE
            || name == header::EXPECT
        {
            return Parsed::Other;
        }
        request.headers_mut().append(name, value);
    }
    Parsed::EventStream(Box::new(request))
}

/// Writes `response` on `tcp` and closes the connection after it; returns
/// early, dropping the body (which ends the stream), when the client goes
/// away or a write fails.
pub async fn respond(mut tcp: TcpStream, response: Response) {
    let (parts, body) = response.into_parts();
    let no_body = parts.status.is_informational()
        || parts.status == StatusCode::NO_CONTENT
        || parts.status == StatusCode::NOT_MODIFIED;
    let length = body.size_hint().exact();
    let mut head = Vec::with_capacity(512);
    head.extend_from_slice(b"HTTP/1.1 ");
    head.extend_from_slice(parts.status.as_str().as_bytes());
    head.push(b' ');
    head.extend_from_slice(parts.status.canonical_reason().unwrap_or("").as_bytes());
    head.extend_from_slice(b"\r\n");
    for (name, value) in &parts.headers {
        // Framing and the connection's fate are this writer's to say.
        if name == header::CONTENT_LENGTH
            || name == header::TRANSFER_ENCODING
            || name == header::CONNECTION
        {
            continue;
        }
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT");
    head.extend_from_slice(format!("date: {date}\r\nconnection: close\r\n").as_bytes());
    let chunked = !no_body && length.is_none();
    match length {
        _ if no_body => {}
        Some(n) => head.extend_from_slice(format!("content-length: {n}\r\n").as_bytes()),
        None => head.extend_from_slice(b"transfer-encoding: chunked\r\n"),
    }
    head.extend_from_slice(b"\r\n");
    if tcp.write_all(&head).await.is_err() {
        return;
    }
    // Only the body stays for the stream's life.
    drop((head, parts));
    if no_body {
        let _ = tcp.shutdown().await;
        return;
    }
    let mut frames = body.into_data_stream();
    let (mut reader, mut writer) = tcp.split();
    // The client sends nothing more (the answer closes the connection):
    // a read that ends means it went away.
    let mut ignored = [0u8; 64];
    loop {
        tokio::select! {
            frame = frames.next() => match frame {
                Some(Ok(data)) if data.is_empty() => {}
                Some(Ok(data)) => {
                    let written = if chunked {
                        // One write, so one event is one segment (TCP_NODELAY).
                        let mut chunk = Vec::with_capacity(data.len() + 12);
                        chunk.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
                        chunk.extend_from_slice(&data);
                        chunk.extend_from_slice(b"\r\n");
                        writer.write_all(&chunk).await
                    } else {
                        writer.write_all(&data).await
                    };
                    if written.is_err() {
                        return;
                    }
                }
                // The body failed: cut the answer short, as hyper does.
                Some(Err(_)) => return,
                None => break,
            },
            read = reader.read(&mut ignored) => match read {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            },
        }
    }
    if chunked && writer.write_all(b"0\r\n\r\n").await.is_err() {
        return;
    }
    let _ = writer.shutdown().await;
}

/// A connection hyper serves, with the bytes already read in front.
pub struct Rewind {
    read: Vec<u8>,
    at: usize,
    tcp: TcpStream,
}

impl Rewind {
    pub fn new(read: Vec<u8>, tcp: TcpStream) -> Self {
        Self { read, at: 0, tcp }
    }
}

impl AsyncRead for Rewind {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.at < this.read.len() {
            let n = (this.read.len() - this.at).min(buf.remaining());
            buf.put_slice(&this.read[this.at..this.at + n]);
            this.at += n;
            if this.at == this.read.len() {
                // Handed over: the buffer is hyper's now.
                this.read = Vec::new();
                this.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Rewind {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(head: &str) -> Option<Request> {
        match parse(head.as_bytes()) {
            Parsed::EventStream(r) => Some(*r),
            _ => None,
        }
    }

    #[test]
    fn a_plain_event_stream_request_is_taken_with_its_headers() {
        let r = parsed(
            "GET /api/u1/events?conversation_id=x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer t\r\nLast-Event-ID: 7\r\n\r\n",
        )
        .expect("taken");
        assert_eq!(r.uri().path(), "/api/u1/events");
        assert_eq!(r.uri().query(), Some("conversation_id=x"));
        assert_eq!(r.headers()["authorization"], "Bearer t");
        assert_eq!(r.headers()["last-event-id"], "7");
    }

    #[test]
    fn anything_unusual_is_left_to_hyper() {
        for head in [
            "POST /api/u1/events HTTP/1.1\r\n\r\n",
            "GET /api/u1/tasks HTTP/1.1\r\n\r\n",
            "GET /api//events HTTP/1.1\r\n\r\n",
            "GET /api/u1/events/x HTTP/1.1\r\n\r\n",
            "GET /api/u1/events HTTP/1.0\r\n\r\n",
            "GET /api/u1/events HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
            "GET /api/u1/events HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "GET /api/u1/events HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
            "GET /api/u1/events HTTP/1.1\r\n\r\nGET /health HTTP/1.1\r\n\r\n",
            "GET /api/u1/events HTTP/1.1\r\nBad Header: x\r\n\r\n",
        ] {
            assert!(parsed(head).is_none(), "{head:?}");
        }
    }

    #[test]
    fn a_head_still_arriving_waits_unless_its_first_line_already_says_no() {
        assert!(matches!(parse(b"GET /api/u1/ev"), Parsed::Partial));
        assert!(matches!(
            parse(b"GET /api/u1/events HTTP/1.1\r\nHost: a\r\n"),
            Parsed::Partial
        ));
        assert!(matches!(parse(b"GET /health HTTP/1.1\r\n"), Parsed::Other));
        assert!(matches!(parse(b"PUT "), Parsed::Other));
    }
}
