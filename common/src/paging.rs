//! Opaque page cursors: the last row's key, serialised and base64url'd.
//! Clients pass them back untouched; anything else is a 400 on `cursor`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

pub fn encode<T: Serialize>(cursor: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).expect("cursors serialise"))
}

pub fn decode<T: DeserializeOwned>(raw: &str) -> Result<T> {
    let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).map_err(|_| invalid())?;
    serde_json::from_slice(&bytes).map_err(|_| invalid())
}

pub fn invalid() -> Error {
    Error::invalid("cursor", "is not a cursor this API returned")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Key {
        k: String,
        i: i64,
    }

    #[test]
    fn round_trips_and_refuses_what_it_did_not_make() {
        let key = Key {
            k: "2026-11-26 01:02:03.456789+00".into(),
            i: 42,
        };
        assert_eq!(decode::<Key>(&encode(&key)).unwrap(), key);
        for bad in [
            "",
            "not base64!",
            "e30",
            &encode(&serde_json::json!({"k": 1})),
        ] {
            let err = decode::<Key>(bad).unwrap_err();
            assert!(
                matches!(&err, Error::Invalid { field, .. } if field == "cursor"),
                "{bad:?}: {err:?}"
            );
        }
    }
}
