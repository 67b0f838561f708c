//! Session tokens. We issue HS* JWTs signed with BETTER_AUTH_SECRET (`sub` =
//! user id), which is also what a Better Auth deployment sharing that secret
//! issues; with AUTH_JWKS_URL set, tokens signed by a key of that JWKS
//! (Better Auth's JWT plugin: EdDSA by default) are accepted as well.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

use super::jwks::Jwks;
use crate::config::Config;
use crate::domain::UserId;
use crate::error::{Error, Result};

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    /// Random in the tokens we issue, so two logins within one second get
    /// different tokens (a logout revokes a token by its hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Who a verified token speaks for.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user_id: UserId,
    pub email: Option<String>,
    pub name: Option<String>,
    /// The token's `iat` (whole seconds), compared with "log out everywhere".
    pub issued_at: i64,
    /// The token's `exp`.
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IssuedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

pub struct TokenService {
    algorithm: Algorithm,
    lifetime: Duration,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwks: Option<Jwks>,
    issuer: Option<String>,
    audience: Option<String>,
}

/// Tokens a few seconds past `exp` are still accepted, for clock skew between hosts.
pub(crate) const LEEWAY_SECONDS: u64 = 30;

impl TokenService {
    pub fn new(config: &Config) -> Self {
        let secret = config.better_auth_secret.expose().as_bytes();
        Self {
            algorithm: config.jwt_algorithm,
            lifetime: Duration::hours(i64::from(config.jwt_expiration_hours)),
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            jwks: config.auth_jwks_url.clone().map(Jwks::new),
            issuer: config.auth_jwt_issuer.clone(),
            audience: config.auth_jwt_audience.clone(),
        }
    }

    /// A token for `user`. `valid_after` is the user's last "log out
    /// everywhere" (see [`super::Revocations`]): tokens with `iat` at or before
    /// that second are refused, so a token issued within the same second (or
    /// by a host whose clock is behind the database's) gets the next second as
    /// its `iat`, at most a second or so in the future, which nothing checks.
    pub fn issue(&self, user: &UserId, valid_after: Option<DateTime<Utc>>) -> Result<IssuedToken> {
        let now = Utc::now();
        let expires_at = now + self.lifetime;
        let iat = match valid_after {
            Some(cutoff) => now.timestamp().max(cutoff.timestamp() + 1),
            None => now.timestamp(),
        };
        let claims = Claims {
            sub: user.to_string(),
            iat,
            exp: expires_at.timestamp(),
            jti: Some(uuid::Uuid::new_v4().simple().to_string()),
            email: None,
            name: None,
        };
        let token = jsonwebtoken::encode(&Header::new(self.algorithm), &claims, &self.encoding)
            .map_err(|e| Error::Internal(format!("token signing failed: {e}")))?;
        Ok(IssuedToken { token, expires_at })
    }

    /// Verifies signature, algorithm and expiry. Only the configured HS*
    /// algorithm, or an asymmetric one with a JWKS key, is accepted; `none`
    /// and everything else are refused.
    pub async fn verify(&self, token: &str) -> Result<Identity> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        let data = if header.alg == self.algorithm {
            let mut v = Validation::new(self.algorithm);
            self.common_rules(&mut v, false);
            jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
        } else if let (Some(jwks), true) = (&self.jwks, Jwks::accepts(header.alg)) {
            let key = jwks.key_for(header.kid.as_deref(), header.alg).await?;
            let mut v = Validation::new(header.alg);
            self.common_rules(&mut v, true);
            jsonwebtoken::decode::<Claims>(token, &key, &v)
        } else {
            return Err(invalid());
        }
        .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => Error::Unauthenticated("token expired".into()),
            _ => invalid(),
        })?;
        let claims = data.claims;
        let user_id = UserId::parse(&claims.sub).map_err(|_| invalid())?;
        let expires_at = DateTime::from_timestamp(claims.exp, 0).ok_or_else(invalid)?;
        Ok(Identity {
            user_id,
            email: claims.email,
            name: claims.name,
            issued_at: claims.iat,
            expires_at,
        })
    }

    fn common_rules(&self, v: &mut Validation, external: bool) {
        v.leeway = LEEWAY_SECONDS;
        v.set_required_spec_claims(&["exp", "sub"]);
        v.validate_aud = false;
        if external {
            if let Some(aud) = &self.audience {
                v.set_audience(&[aud]);
                v.validate_aud = true;
            }
            if let Some(iss) = &self.issuer {
                v.set_issuer(&[iss]);
            }
        }
    }
}

fn invalid() -> Error {
    Error::Unauthenticated("invalid token".into())
}
