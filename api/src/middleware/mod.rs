//! Layers every request passes through.

pub mod cors;
pub mod observe;
pub mod security_headers;
