//! Authentication: password hashing (bounded), session tokens (ours and
//! Better Auth's), their revocation (log out), and sign-up/login throttling.

mod jwks;
pub mod password;
mod revocation;
mod throttle;
mod token;

pub use password::Passwords;
pub use revocation::{Revocations, TokenDigest};
pub use throttle::AuthThrottle;
pub use token::{Claims, Identity, IssuedToken, TokenService};
