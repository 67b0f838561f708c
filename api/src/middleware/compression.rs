//! gzip or brotli for answers over 1 KiB, as the client's `Accept-Encoding`
//! allows (issue 23): a 1,000-task list is about ten times smaller. Event
//! streams stay as they are (each event must leave at once), and so do the
//! web app's files, which are served already compressed.

use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};

/// Smaller answers gain less than the work costs.
const MIN_SIZE: u64 = 1024;

pub fn layer() -> CompressionLayer<impl Predicate> {
    let worth_it = SizeAbove::new(MIN_SIZE)
        .and(NotForContentType::SSE)
        .and(NotForContentType::GRPC)
        .and(NotForContentType::IMAGES);
    CompressionLayer::new()
        // Level 4 of either: most of the gain for a small part of the
        // highest levels' time, which dynamic answers cannot afford.
        .quality(CompressionLevel::Precise(4))
        .compress_when(worth_it)
}
