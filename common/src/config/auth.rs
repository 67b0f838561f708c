//! Tokens, secrets and the throttling of sign-up and login.

use std::time::Duration;

use super::parse::{http_url, weak_secret};
use super::{Reader, Secret};

/// The HMAC algorithm of our own session tokens (the API maps it to its JWT
/// library's; the worker, which reads the same settings, links none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    HS256,
    HS384,
    HS512,
}

#[derive(Debug, Clone)]
pub struct Auth {
    pub jwt_algorithm: Algorithm,
    pub jwt_expiration_hours: u32,
    /// Signs and verifies HS* session tokens.
    pub better_auth_secret: Secret,
    /// Keys the HMACs that name throttling buckets (no raw IPs or emails are
    /// stored) and anything else that needs a server-side key.
    pub secret_key: Secret,
    /// A Better Auth (or other) JWKS; tokens signed by its keys are accepted too.
    pub jwks_url: Option<String>,
    /// When set, JWKS-signed tokens must carry this `iss` / `aud`.
    pub jwt_issuer: Option<String>,
    pub jwt_audience: Option<String>,
    /// Better Auth's base URL: its shared-secret tokens must name it.
    pub better_auth_url: Option<String>,
    pub login_max_failures: u32,
    pub login_failure_window: Duration,
    pub signup_max_per_ip: u32,
    pub signup_window: Duration,
    /// argon2 hashes running at once.
    pub password_hash_concurrency: u32,
    /// How long a request waits for a hashing slot before 503.
    pub password_hash_wait: Duration,
}

impl Auth {
    pub fn read(r: &mut Reader) -> Self {
        r.section("auth");
        let secrets_required = r.environment.is_deployed();
        let jwt_algorithm = r.var(
            "JWT_ALGORITHM",
            "`HS256`, `HS384` or `HS512` for our tokens. Tokens with any other algorithm are refused unless they are signed by a JWKS key (`AUTH_JWKS_URL`).",
        ).parse(Algorithm::HS256, |v| match v.to_ascii_uppercase().as_str() {
            "HS256" => Ok(Algorithm::HS256),
            "HS384" => Ok(Algorithm::HS384),
            "HS512" => Ok(Algorithm::HS512),
            _ => Err("expected HS256, HS384 or HS512 (asymmetric keys come from AUTH_JWKS_URL)".into()),
        });
        let jwt_expiration_hours = r
            .var("JWT_EXPIRATION_HOURS", "Token lifetime, 1 to 720.")
            .parse(24u32, |v| {
                v.parse::<u32>()
                    .ok()
                    .filter(|h| (1..=720).contains(h))
                    .ok_or_else(|| "expected hours between 1 and 720".to_string())
            });
        let better_auth_secret = r.var(
            "BETTER_AUTH_SECRET",
            "Signs and verifies our HS* tokens; shared with Better Auth when it mints tokens for us. Required in staging and production; at least 32 characters and not a placeholder everywhere except an explicit `ENVIRONMENT=development` or `test` (see [Secrets](#secrets)). Locally, an unset secret means tokens die with the process.",
        ).secret(secrets_required);
        let secret_key = r.var(
            "SECRET_KEY",
            "Server-side key; keys the HMACs that name login-throttle buckets. Required in staging and production; strength rules as for `BETTER_AUTH_SECRET`.",
        ).secret(secrets_required);
        if !r.lenient_secrets {
            for (name, secret) in [
                ("BETTER_AUTH_SECRET", &better_auth_secret),
                ("SECRET_KEY", &secret_key),
            ] {
                if let Some(why) = weak_secret(secret.expose()) {
                    r.problem(format!(
                        "{name} {why} (weak secrets are allowed only with ENVIRONMENT=development or test)"
                    ));
                }
            }
        }
        let jwks_url = r.var(
            "AUTH_JWKS_URL",
            "A JWKS (Better Auth: `https://<auth host>/api/auth/jwks`). Tokens signed by its keys with EdDSA, RS256 or ES256 are accepted. Keys are cached and re-fetched on an unknown `kid`, at most every 10 s. Must be `https://` in production. Redirects are not followed: a 3xx is a failed fetch (requests needing a new key get 503), so point it at the final URL.",
        ).parse(None, |v| http_url(v).map(Some));
        // Keys fetched over plain HTTP, or from wherever a redirect points, could be anyone's.
        if r.is_production()
            && jwks_url
                .as_ref()
                .is_some_and(|u| !u.starts_with("https://"))
        {
            r.problem("AUTH_JWKS_URL must be an https:// URL in production");
        }
        let jwt_issuer = r
            .var(
                "AUTH_JWT_ISSUER",
                "When set, JWKS-signed tokens must carry this `iss`; a token without the claim is refused, not waved through.",
            )
            .optional();
        let jwt_audience = r
            .var(
                "AUTH_JWT_AUDIENCE",
                "When set, JWKS-signed tokens must carry this `aud`; a token without the claim is refused.",
            )
            .optional();
        let better_auth_url = r.var(
            "BETTER_AUTH_URL",
            "Better Auth's base URL, exactly as Better Auth has it. When set, a token signed with `BETTER_AUTH_SECRET` that is not one of ours must carry it as `iss` and in `aud`, as Better Auth's tokens do. Unset: see [Which tokens are sessions](#which-tokens-are-sessions).",
        ).parse(None, |v| http_url(v).map(Some).map_err(|e| format!("{e}; it must be Better Auth's own http(s) base URL")));
        let login_max_failures = r.var(
            "LOGIN_MAX_FAILURES",
            "Failed logins allowed per client IP in a window before `429` with `Retry-After`; an account with this many failures in its window only takes attempts from addresses that have not failed. See [Sign-up and login throttling](#sign-up-and-login-throttling).",
        ).positive(10u32);
        let login_failure_window = Duration::from_secs(
            r.var(
                "LOGIN_FAILURE_WINDOW_SECONDS",
                "The window `LOGIN_MAX_FAILURES` counts in.",
            )
            .positive(60u64),
        );
        let signup_max_per_ip = r.var(
            "SIGNUP_MAX_PER_IP",
            "Sign-up attempts allowed per client IP in a window before `429` with `Retry-After`. Every attempt that gets as far as hashing its password counts (also one refused as a duplicate email); one refused with 503 does not. Raise it for many users behind one NAT.",
        ).positive(20u32);
        let signup_window = Duration::from_secs(
            r.var(
                "SIGNUP_WINDOW_SECONDS",
                "The window `SIGNUP_MAX_PER_IP` counts in.",
            )
            .positive(3600u64),
        );
        // Half the cores: a sign-up storm leaves the other half to every
        // other request, and bounds the hashes' memory (19 MiB each; issue 23).
        let half_the_cores =
            std::thread::available_parallelism().map_or(2, |n| n.get().div_ceil(2));
        let password_hash_concurrency = r.var(
            "PASSWORD_HASH_CONCURRENCY",
            "argon2id hashes (sign-up, login) running at once in one API process; each holds 19 MiB and a core for tens of milliseconds. The default leaves the other half of the cores to every other request during a sign-up storm.",
        ).shown_default("half the cores, at least 1").positive(u32::try_from(half_the_cores).unwrap_or(u32::MAX));
        let password_hash_wait = Duration::from_millis(r.var(
            "PASSWORD_HASH_WAIT_MS",
            "How long a sign-up or login waits for a free hashing slot (0 to 30000). Then it gets `503` `overloaded` with `Retry-After: 1` instead of queueing without limit; `password_hashes_refused_total` counts them.",
        ).parse(1000u64, |v| {
            v.parse::<u64>()
                .ok()
                .filter(|ms| *ms <= 30_000)
                .ok_or_else(|| "expected milliseconds, 0 to 30000".to_string())
        }));
        Self {
            jwt_algorithm,
            jwt_expiration_hours,
            better_auth_secret,
            secret_key,
            jwks_url,
            jwt_issuer,
            jwt_audience,
            better_auth_url,
            login_max_failures,
            login_failure_window,
            signup_max_per_ip,
            signup_window,
            password_hash_concurrency,
            password_hash_wait,
        }
    }
}
