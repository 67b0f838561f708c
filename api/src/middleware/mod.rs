//! Layers every request passes through.

pub mod compression;
pub mod cors;
pub mod observe;
pub mod security_headers;
