//! Session tokens. We issue HS* JWTs signed with BETTER_AUTH_SECRET (`sub` =
//! user id) that name us as issuer and audience and say they are a session
//! (explicit typing, RFC 8725 sections 3.9 and 3.11), so a JWT made with the
//! secret for another purpose is not one of our sessions. A Better Auth
//! deployment sharing that secret issues tokens too: with BETTER_AUTH_URL
//! set they must name it as `iss` and `aud`; without it any shared-secret JWT
//! with `sub`, `iat` and `exp` is accepted (docs/configuration.md says what
//! that trusts). With AUTH_JWKS_URL set, tokens signed by a key of that JWKS
//! (Better Auth's JWT plugin: EdDSA by default) are accepted as well, with
//! AUTH_JWT_ISSUER / AUTH_JWT_AUDIENCE required when configured.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::jwks::Jwks;
use todo_common::config::{Auth, JwtAlgorithm};
use todo_common::domain::UserId;
use todo_common::error::{Error, Result};

/// The `iss` of the tokens we issue.
pub const ISSUER: &str = "todo-chat";
/// The `aud` of the tokens we issue: this API.
pub const AUDIENCE: &str = "todo-chat-api";
/// The `token_use` of the tokens we issue.
pub const TOKEN_USE: &str = "session";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// A string or a list of strings (RFC 7519); checked by jsonwebtoken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Value>,
    /// `session` in ours; a token naming our issuer without it is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_use: Option<String>,
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
    better_auth_url: Option<String>,
}

/// Tokens a few seconds past `exp` (or before `nbf`, or with `iat` a little
/// in the future) are still accepted, for clock skew between hosts.
pub(crate) const LEEWAY_SECONDS: u64 = 30;

impl TokenService {
    pub fn new(config: &Auth) -> Self {
        let secret = config.better_auth_secret.expose().as_bytes();
        Self {
            algorithm: match config.jwt_algorithm {
                JwtAlgorithm::HS256 => Algorithm::HS256,
                JwtAlgorithm::HS384 => Algorithm::HS384,
                JwtAlgorithm::HS512 => Algorithm::HS512,
            },
            lifetime: Duration::hours(i64::from(config.jwt_expiration_hours)),
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            jwks: config.jwks_url.clone().map(Jwks::new),
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            better_auth_url: config.better_auth_url.clone(),
        }
    }

    /// A token for `user`. `valid_after` is the user's last "log out
    /// everywhere" (see [`super::Revocations`]): tokens with `iat` at or before
    /// that second are refused, so a token issued within the same second (or
    /// by a host whose clock is behind the database's) gets the next second as
    /// its `iat`, at most a second or so in the future: well within the
    /// leeway of the future-`iat` check in [`Self::verify`].
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
            iss: Some(ISSUER.into()),
            aud: Some(AUDIENCE.into()),
            token_use: Some(TOKEN_USE.into()),
            jti: Some(uuid::Uuid::new_v4().simple().to_string()),
            email: None,
            name: None,
        };
        let token = jsonwebtoken::encode(&Header::new(self.algorithm), &claims, &self.encoding)
            .map_err(|e| Error::Internal(format!("token signing failed: {e}")))?;
        Ok(IssuedToken { token, expires_at })
    }

    /// Verifies signature, algorithm, expiry, `nbf`, a future `iat`, and who
    /// the token is from and for. Only the configured HS* algorithm, or an
    /// asymmetric one with a JWKS key, is accepted; `none` and everything
    /// else are refused.
    pub async fn verify(&self, token: &str) -> Result<Identity> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        let (data, ours) = if header.alg == self.algorithm {
            let (v, ours) = self.shared_secret_rules(token)?;
            (
                jsonwebtoken::decode::<Claims>(token, &self.decoding, &v),
                ours,
            )
        } else if let (Some(jwks), true) = (&self.jwks, Jwks::accepts(header.alg)) {
            let key = jwks.key_for(header.kid.as_deref(), header.alg).await?;
            let mut v = base_rules(header.alg);
            if let Some(iss) = &self.issuer {
                v.set_issuer(&[iss]);
                v.required_spec_claims.insert("iss".into());
            }
            if let Some(aud) = &self.audience {
                v.set_audience(&[aud]);
                v.validate_aud = true;
                v.required_spec_claims.insert("aud".into());
            }
            (jsonwebtoken::decode::<Claims>(token, &key, &v), false)
        } else {
            return Err(invalid());
        };
        let claims = data
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => Error::Unauthenticated("token expired".into()),
                _ => invalid(),
            })?
            .claims;
        if ours && claims.token_use.as_deref() != Some(TOKEN_USE) {
            return Err(invalid());
        }
        // jsonwebtoken does not look at `iat`; a token dated in the future
        // was not issued by a host with a sane clock.
        if claims.iat > Utc::now().timestamp() + LEEWAY_SECONDS as i64 {
            return Err(invalid());
        }
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

    /// The rules for a shared-secret token, and whether it is one of ours.
    /// They depend on the issuer the token names (read before its signature
    /// is checked): naming ours selects our rules, anything else the rules
    /// for Better Auth's tokens, so naming an issuer never loosens a check.
    fn shared_secret_rules(&self, token: &str) -> Result<(Validation, bool)> {
        #[derive(Deserialize)]
        struct Issuer {
            #[serde(default)]
            iss: Option<Value>,
        }
        let named: Issuer =
            jsonwebtoken::dangerous::insecure_decode_claims(token).map_err(|_| invalid())?;
        let ours = named.iss.as_ref().and_then(Value::as_str) == Some(ISSUER);
        let mut v = base_rules(self.algorithm);
        let expected = if ours {
            Some((ISSUER, AUDIENCE))
        } else {
            self.better_auth_url.as_deref().map(|url| (url, url))
        };
        if let Some((iss, aud)) = expected {
            v.set_issuer(&[iss]);
            v.set_audience(&[aud]);
            v.validate_aud = true;
            v.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        }
        Ok((v, ours))
    }
}

/// What every token must satisfy: `exp` and `sub` present, `exp` and `nbf`
/// checked with the leeway. `aud` is checked only where an audience is
/// expected (bare Better Auth tokens may carry any).
fn base_rules(alg: Algorithm) -> Validation {
    let mut v = Validation::new(alg);
    v.leeway = LEEWAY_SECONDS;
    v.set_required_spec_claims(&["exp", "sub"]);
    v.validate_nbf = true;
    v.validate_aud = false;
    v
}

fn invalid() -> Error {
    Error::Unauthenticated("invalid token".into())
}
