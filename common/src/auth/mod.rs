//! Authentication: password hashing, session tokens (ours and Better Auth's),
//! their revocation (log out), and login throttling.

mod jwks;
pub mod password;
mod revocation;
mod throttle;
mod token;

pub use revocation::{Revocations, TokenDigest};
pub use throttle::LoginThrottle;
pub use token::{Claims, Identity, IssuedToken, TokenService};
