//! mock-openai over real HTTP, in one test binary (one link instead of four).

mod cli;
mod faults;
mod http;
mod rate_limits;
mod support;
