//! Parsers for values people write in variables, and checks on them.

use std::time::Duration;

use super::{AllowedOrigins, IpNet};

/// "7d", "36h", "90m", "45s" or a plain number of seconds; positive.
pub fn duration(v: &str) -> Result<Duration, String> {
    let v = v.trim().to_ascii_lowercase();
    let (number, unit) = match v.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => v.split_at(i),
        None => (v.as_str(), "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{v}` is not a duration like 7d or 36h"))?;
    let unit_secs = match unit.trim() {
        "s" | "sec" | "secs" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(format!("`{v}`: use s, m, h or d")),
    };
    if n == 0 {
        return Err("must be positive".into());
    }
    Ok(Duration::from_secs(n.saturating_mul(unit_secs)))
}

pub fn origins(v: &str) -> Result<AllowedOrigins, String> {
    let items: Vec<&str> = v
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if items == ["*"] {
        return Ok(AllowedOrigins::Any);
    }
    if items.is_empty() {
        return Err("list at least one origin, or *".into());
    }
    let mut out = Vec::new();
    for item in items {
        let valid = (item.starts_with("http://") || item.starts_with("https://"))
            && !item.ends_with('/')
            && !item.contains('*')
            && item.is_ascii();
        if !valid {
            return Err(format!(
                "`{item}` is not an origin like https://app.example.com (no path, no trailing slash)"
            ));
        }
        out.push(item.to_string());
    }
    Ok(AllowedOrigins::List(out))
}

/// "10.0.0.0/8, 192.168.1.7, fd00::/8": CIDRs, or single addresses.
pub fn networks(v: &str) -> Result<Vec<IpNet>, String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| format!("`{item}` is not an IP address or CIDR like 10.0.0.0/8"))
        })
        .collect()
}

pub fn methods(v: &str) -> Result<Vec<String>, String> {
    const KNOWN: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"];
    let mut out = Vec::new();
    for m in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let m = m.to_ascii_uppercase();
        if !KNOWN.contains(&m.as_str()) {
            return Err(format!("unknown HTTP method `{m}`"));
        }
        out.push(m);
    }
    if out.is_empty() {
        return Err("list at least one method".into());
    }
    Ok(out)
}

/// "a, b,,c" -> [a, b, c]
pub fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// An http:// or https:// URL.
pub fn http_url(v: &str) -> Result<String, String> {
    if v.starts_with("https://") || v.starts_with("http://") {
        Ok(v.to_string())
    } else {
        Err(format!("`{v}` is not an http(s) URL"))
    }
}

/// A TCP port, 1 to 65535.
pub fn port(v: &str) -> Result<Option<u16>, String> {
    v.parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .map(Some)
        .ok_or_else(|| "expected a port number, 1 to 65535".to_string())
}

/// Strips the `user:password@` part of a URL so it can be logged.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

pub fn requires_tls(url: &str) -> bool {
    let Some((_, query)) = url.split_once('?') else {
        return false;
    };
    query.split('&').any(|kv| {
        matches!(
            kv.split_once('='),
            Some(("sslmode", "require" | "verify-ca" | "verify-full"))
        )
    })
}

/// Why a secret is unfit for production, if it is.
pub fn weak_secret(value: &str) -> Option<&'static str> {
    const PLACEHOLDERS: [&str; 12] = [
        "changeme",
        "change-me",
        "change_me",
        "placeholder",
        "your-secret",
        "your_secret",
        "yoursecret",
        "replace-me",
        "replace_me",
        "example",
        "dummy",
        "insecure",
    ];
    let lower = value.to_ascii_lowercase();
    if value.chars().count() < 32 {
        Some("must be at least 32 characters")
    } else if PLACEHOLDERS.iter().any(|p| lower.contains(p))
        || lower.trim_start_matches("secret").is_empty()
        || value.chars().all(|c| value.starts_with(c))
    {
        Some("is a known placeholder; generate one with `openssl rand -base64 48`")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(duration("7d").unwrap(), Duration::from_secs(604_800));
        assert_eq!(duration("36h").unwrap(), Duration::from_secs(129_600));
        assert_eq!(duration("90").unwrap(), Duration::from_secs(90));
        assert!(duration("0d").is_err());
        assert!(duration("soon").is_err());
        assert!(duration("3w").is_err());
    }

    #[test]
    fn repeated_character_secrets_are_placeholders() {
        assert!(weak_secret(&"a".repeat(40)).is_some());
        assert!(weak_secret(&"secret".repeat(8)).is_some());
        assert!(weak_secret("k7Qp2vX9mZr4Tn8LwB3yHc6Jd1Fs5Ga0Ue").is_none());
    }
}
