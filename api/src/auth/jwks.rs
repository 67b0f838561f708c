//! A cached JSON Web Key Set (Better Auth publishes one at /api/auth/jwks).
//! Keys are fetched on first use and again when a token names a key id we do
//! not know (key rotation), at most once per REFRESH_INTERVAL so forged key
//! ids cannot make us hammer the key server. Redirects are not followed (a
//! redirect is a failed fetch) and production requires an https:// URL, so
//! the keys come from the configured server and no one on the way.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::{Mutex, RwLock};

use todo_common::error::{Error, Result};

const REFRESH_INTERVAL: Duration = Duration::from_secs(10);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

pub(super) struct Jwks {
    url: String,
    http: reqwest::Client,
    keys: RwLock<JwkSet>,
    last_fetch: Mutex<Option<Instant>>,
}

impl Jwks {
    pub(super) fn new(url: String) -> Self {
        Self {
            url,
            http: reqwest::Client::builder()
                .timeout(FETCH_TIMEOUT)
                // The configured URL is the key server; a redirect could
                // lead anywhere (and from https to http), so it is a
                // failed fetch instead.
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("HTTP client with static settings"),
            keys: RwLock::new(JwkSet { keys: Vec::new() }),
            last_fetch: Mutex::new(None),
        }
    }

    /// The asymmetric algorithms a JWKS key may sign with.
    pub(super) fn accepts(alg: Algorithm) -> bool {
        matches!(alg, Algorithm::EdDSA | Algorithm::RS256 | Algorithm::ES256)
    }

    pub(super) async fn key_for(&self, kid: Option<&str>, alg: Algorithm) -> Result<DecodingKey> {
        if let Some(key) = self.find(kid, alg).await {
            return Ok(key);
        }
        self.refresh().await?;
        self.find(kid, alg)
            .await
            .ok_or_else(|| Error::Unauthenticated("invalid token".into()))
    }

    async fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<DecodingKey> {
        let keys = self.keys.read().await;
        let mut candidates = keys
            .keys
            .iter()
            .filter(|k| kid.is_none() || k.common.key_id.as_deref() == kid)
            .filter(|k| fits(k, alg));
        let key = candidates.next()?;
        // Without a kid, only an unambiguous set may be used.
        if kid.is_none() && candidates.next().is_some() {
            return None;
        }
        DecodingKey::from_jwk(key).ok()
    }

    async fn refresh(&self) -> Result<()> {
        let mut last = self.last_fetch.lock().await;
        if last.is_some_and(|t| t.elapsed() < REFRESH_INTERVAL) {
            return Ok(());
        }
        *last = Some(Instant::now());
        let set = async {
            let response = self
                .http
                .get(&self.url)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            // Any other status, a redirect (not followed) included, is a failure.
            if response.status() != reqwest::StatusCode::OK {
                return Err(format!("{} answered {}", self.url, response.status()));
            }
            response.json::<JwkSet>().await.map_err(|e| e.to_string())
        }
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "could not fetch the JWKS");
            Error::Unavailable("token key server".into())
        })?;
        tracing::info!(keys = set.keys.len(), "JWKS refreshed");
        *self.keys.write().await = set;
        Ok(())
    }
}

/// A key may verify `alg` only if its type matches and its own `alg`, when
/// stated, agrees: an RSA key is never used for ES256, and so on.
fn fits(key: &Jwk, alg: Algorithm) -> bool {
    let family_ok = matches!(
        (&key.algorithm, alg),
        (AlgorithmParameters::OctetKeyPair(_), Algorithm::EdDSA)
            | (AlgorithmParameters::RSA(_), Algorithm::RS256)
            | (AlgorithmParameters::EllipticCurve(_), Algorithm::ES256)
    );
    let stated_ok = key
        .common
        .key_algorithm
        .is_none_or(|ka| ka.to_string() == format!("{alg:?}"));
    family_ok && stated_ok
}
