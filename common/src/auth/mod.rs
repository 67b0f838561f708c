//! Authentication: password hashing, session tokens (ours and Better Auth's),
//! and login throttling.

mod jwks;
pub mod password;
mod throttle;
mod token;

pub use throttle::LoginThrottle;
pub use token::{Claims, Identity, IssuedToken, TokenService};
