use std::time::Duration;

use super::*;

fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn api(pairs: &[(&str, &str)]) -> Result<ApiConfig, ConfigError> {
    ApiConfig::from_vars(vars(pairs))
}

fn problems(pairs: &[(&str, &str)]) -> Vec<String> {
    match api(pairs) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems,
    }
}

const STRONG: &str = "k7Qp2vX9mZr4Tn8LwB3yHc6Jd1Fs5Ga0Ue";

fn production_ok() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ENVIRONMENT", "production"),
        ("BETTER_AUTH_SECRET", STRONG),
        ("SECRET_KEY", "Zx81-aQw93-LkJh72-MnBv45-PoIu67-YtRe"),
        ("DATABASE_URL", "postgres://u:p@db:5432/app?sslmode=require"),
        ("ALLOWED_ORIGINS", "https://app.example.com"),
    ]
}

#[test]
fn starts_with_no_variables_outside_production() {
    let c = api(&[]).expect("defaults are valid");
    assert_eq!(c.general.environment, Environment::Development);
    assert_eq!(c.http.port, 8000);
    assert!(c.database.run_migrations);
    assert!(c.auth.better_auth_secret.expose().len() >= 32);
    assert_eq!(c.database.max_connections(), 20);
    let w = WorkerConfig::from_vars(HashMap::new()).expect("defaults are valid");
    assert!(
        w.model.offline(),
        "no key, no base URL: the offline assistant"
    );
}

#[test]
fn production_with_strong_settings_is_accepted() {
    let c = api(&production_ok()).expect("valid production config");
    assert!(
        !c.database.run_migrations,
        "production migrates only when asked"
    );
    assert_eq!(c.observability.log_format, LogFormat::Json);
}

#[test]
fn production_lists_every_problem_at_once() {
    let err = api(&[
        ("ENVIRONMENT", "production"),
        ("BETTER_AUTH_SECRET", "short"),
        ("SECRET_KEY", "changeme-changeme-changeme-changeme-changeme"),
        ("DEBUG", "true"),
        ("ALLOWED_ORIGINS", "*"),
        ("CORS_ALLOW_CREDENTIALS", "true"),
        ("DATABASE_URL", "postgres://u:p@db/app"),
        ("API_PORT", "eighty"),
    ])
    .unwrap_err();
    let text = err.to_string();
    for needle in [
        "BETTER_AUTH_SECRET must be at least 32",
        "SECRET_KEY is a known placeholder",
        "DEBUG must be false",
        "ALLOWED_ORIGINS=*",
        "sslmode=require",
        "API_PORT",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
    assert_eq!(err.problems.len(), 6, "{text}");
    assert!(!text.contains("u:p@"), "no credentials in errors");
}

#[test]
fn production_requires_secrets_to_be_set() {
    let mut v = vars(&production_ok());
    v.remove("SECRET_KEY");
    let err = ApiConfig::from_vars(v).unwrap_err();
    assert_eq!(
        err.problems,
        vec!["SECRET_KEY is required outside development and test"]
    );
}

#[test]
fn secrets_never_print() {
    let c = api(&production_ok()).unwrap();
    let shown = format!("{c:?}");
    assert!(!shown.contains(STRONG));
    assert!(!shown.contains("u:p@"));
    assert_eq!(
        c.database.display(),
        "postgres://db:5432/app?sslmode=require"
    );
    let w = WorkerConfig::from_vars(vars(&[("OPENAI_API_KEY", "sk-live-very-secret")])).unwrap();
    assert!(!format!("{w:?}").contains("sk-live-very-secret"));
}

#[test]
fn checklist_values_parse() {
    let c = api(&[
        ("LOG_LEVEL", "WARNING"),
        ("LOG_FORMAT", "json"),
        ("DEBUG", "False"),
        ("CORS_ALLOW_METHODS", "GET,POST,PUT,DELETE,OPTIONS"),
        (
            "ALLOWED_ORIGINS",
            "https://app.example.com, https://staging.example.com",
        ),
        ("DATABASE_POOL_SIZE", "20"),
        ("DATABASE_MAX_OVERFLOW", "40"),
        ("JWT_ALGORITHM", "HS256"),
    ])
    .unwrap();
    assert_eq!(c.observability.log_level, "warn");
    assert_eq!(c.observability.log_format, LogFormat::Json);
    assert_eq!(c.database.max_connections(), 60);
    assert_eq!(
        c.http.allowed_origins,
        AllowedOrigins::List(vec![
            "https://app.example.com".into(),
            "https://staging.example.com".into()
        ])
    );
    assert_eq!(c.http.cors_allow_methods.len(), 5);
}

#[test]
fn trusted_proxies_replace_trust_forwarded_for() {
    let c = api(&[("TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.7,fd00::/8")]).unwrap();
    for ip in ["10.1.2.3", "192.168.1.7", "fd00::1"] {
        let ip: std::net::IpAddr = ip.parse().unwrap();
        assert!(
            c.http.trusted_proxies.iter().any(|n| n.contains(&ip)),
            "{ip}"
        );
    }
    assert!(api(&[]).unwrap().http.trusted_proxies.is_empty());

    let err = api(&[
        ("TRUST_FORWARDED_FOR", "true"),
        ("TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal"),
    ])
    .unwrap_err();
    assert_eq!(err.problems.len(), 2, "{err}");
    assert!(
        err.to_string()
            .contains("TRUST_FORWARDED_FOR is no longer supported"),
        "{err}"
    );
    assert!(err.to_string().contains("`proxy.internal`"), "{err}");
    // Saying false is harmless and still accepted.
    api(&[("TRUST_FORWARDED_FOR", "false")]).unwrap();
}

#[test]
fn hashing_and_signup_limits_have_sane_defaults() {
    let c = api(&[]).unwrap();
    assert!(c.auth.password_hash_concurrency >= 1);
    assert_eq!(c.auth.password_hash_wait, Duration::from_secs(1));
    assert_eq!(c.auth.signup_max_per_ip, 20);
    let err = api(&[
        ("PASSWORD_HASH_CONCURRENCY", "0"),
        ("SIGNUP_MAX_PER_IP", "0"),
        ("PASSWORD_HASH_WAIT_MS", "60000"),
    ])
    .unwrap_err();
    assert_eq!(err.problems.len(), 3, "{err}");
}

#[test]
fn bad_values_are_named() {
    let err = api(&[
        ("JWT_ALGORITHM", "none"),
        ("ALLOWED_ORIGINS", "app.example.com/"),
        ("CORS_ALLOW_METHODS", "GET,FETCH"),
        ("METRICS_ENABLED", "maybe"),
    ])
    .unwrap_err();
    assert_eq!(err.problems.len(), 4, "{err}");
    for name in [
        "JWT_ALGORITHM",
        "ALLOWED_ORIGINS",
        "CORS_ALLOW_METHODS",
        "METRICS_ENABLED",
    ] {
        assert!(err.to_string().contains(name), "{name}: {err}");
    }
}

#[test]
fn each_binary_reads_only_its_sections() {
    // A worker does not care about CORS, nor the API about the model's key.
    WorkerConfig::from_vars(vars(&[("ALLOWED_ORIGINS", "not an origin")])).unwrap();
    api(&[("OPENAI_BASE_URL", "not a url")]).unwrap();
    let err = WorkerConfig::from_vars(vars(&[("OPENAI_BASE_URL", "localhost:11434")])).unwrap_err();
    assert!(err.problems[0].starts_with("OPENAI_BASE_URL"), "{err}");
}

#[test]
fn staging_refuses_weak_and_missing_secrets() {
    let weak = problems(&[
        ("ENVIRONMENT", "staging"),
        ("BETTER_AUTH_SECRET", "compose-local-secret"),
        ("SECRET_KEY", "changeme-changeme-changeme-changeme-changeme"),
    ]);
    assert_eq!(weak.len(), 2, "{weak:?}");
    assert!(weak[0].starts_with("BETTER_AUTH_SECRET must be at least 32"));
    assert!(weak[1].starts_with("SECRET_KEY is a known placeholder"));

    let missing = problems(&[("ENVIRONMENT", "staging")]);
    assert_eq!(
        missing,
        vec![
            "BETTER_AUTH_SECRET is required outside development and test",
            "SECRET_KEY is required outside development and test",
        ]
    );
}

#[test]
fn weak_secrets_need_an_explicit_development_or_test_environment() {
    let weak = [
        ("BETTER_AUTH_SECRET", "short"),
        ("SECRET_KEY", &*"x".repeat(40)),
    ];
    // ENVIRONMENT unset: a deployment that forgot it is held to the rules.
    assert_eq!(problems(&weak).len(), 2);
    for env in ["development", "dev", "test"] {
        let mut pairs = weak.to_vec();
        pairs.push(("ENVIRONMENT", env));
        assert_eq!(problems(&pairs), Vec::<String>::new(), "{env}");
    }
    // Unset secrets stay random per process locally: no variables at all is fine.
    assert!(problems(&[]).is_empty());
    assert!(problems(&[("ENVIRONMENT", "test")]).is_empty());
}

#[test]
fn production_fetches_the_jwks_over_https_only() {
    let with = |url: &str| {
        let mut v = production_ok();
        v.push(("AUTH_JWKS_URL", url));
        problems(&v)
    };
    assert_eq!(
        with("http://auth.example.com/api/auth/jwks"),
        vec!["AUTH_JWKS_URL must be an https:// URL in production"]
    );
    assert!(with("https://auth.example.com/api/auth/jwks").is_empty());
    // Locally a plain-http key server (or a test's) is fine.
    assert!(api(&[("AUTH_JWKS_URL", "http://127.0.0.1:3000/jwks")]).is_ok());
}

#[test]
fn metrics_port_and_better_auth_url_are_read() {
    let c = api(&[
        ("METRICS_PORT", "9464"),
        ("BETTER_AUTH_URL", "https://auth.example.com"),
    ])
    .unwrap();
    assert_eq!(c.http.metrics_port, Some(9464));
    assert_eq!(
        c.auth.better_auth_url.as_deref(),
        Some("https://auth.example.com")
    );
    let c = api(&[]).unwrap();
    assert_eq!((c.http.metrics_port, c.auth.better_auth_url), (None, None));

    let err = api(&[
        ("METRICS_PORT", "0"),
        ("BETTER_AUTH_URL", "auth.example.com"),
    ])
    .unwrap_err();
    assert_eq!(err.problems.len(), 2, "{err}");
    let err = api(&[("METRICS_PORT", "8000")]).unwrap_err();
    assert!(err.problems[0].contains("METRICS_PORT must differ from API_PORT"));
}

#[test]
fn model_output_limit_and_timeouts() {
    let worker = |pairs: &[(&str, &str)]| WorkerConfig::from_vars(vars(pairs));
    let m = worker(&[]).unwrap().model;
    assert_eq!(m.max_output_tokens, 1024);
    assert_eq!(
        (m.timeout, m.first_byte_timeout, m.idle_timeout),
        (
            Duration::from_secs(300),
            Duration::from_secs(60),
            Duration::from_secs(30)
        )
    );
    // OpenAI (the default server) and Azure get max_completion_tokens;
    // every other server max_tokens, unless told otherwise.
    assert_eq!(m.output_limit_field(), "max_completion_tokens");
    for (url, field) in [
        ("https://api.openai.com/v1", "max_completion_tokens"),
        (
            "https://me.openai.azure.com/openai/v1",
            "max_completion_tokens",
        ),
        ("http://localhost:11434/v1", "max_tokens"),
        ("http://api.openai.com.example.net/v1", "max_tokens"),
    ] {
        let m = worker(&[("OPENAI_BASE_URL", url)]).unwrap().model;
        assert_eq!(m.output_limit_field(), field, "{url}");
    }
    let m = worker(&[
        ("OPENAI_BASE_URL", "http://localhost:8080/v1"),
        ("OPENAI_MAX_TOKENS_FIELD", "max_completion_tokens"),
        ("OPENAI_TIMEOUT_SECONDS", "60"),
    ])
    .unwrap()
    .model;
    assert_eq!(m.output_limit_field(), "max_completion_tokens");
    assert_eq!(m.timeout, Duration::from_secs(60), "still the total");

    let err = worker(&[
        ("OPENAI_MAX_OUTPUT_TOKENS", "0"),
        ("OPENAI_IDLE_TIMEOUT_SECONDS", "0"),
        ("OPENAI_MAX_TOKENS_FIELD", "n_predict"),
    ])
    .unwrap_err();
    assert_eq!(err.problems.len(), 3, "{err}");

    // The context window: unset by default, and it must hold the answer.
    assert_eq!(worker(&[]).unwrap().model.context_tokens, None);
    let m = worker(&[("OPENAI_CONTEXT_TOKENS", "4096")]).unwrap().model;
    assert_eq!(m.context_tokens, Some(4096));
    let err = worker(&[
        ("OPENAI_CONTEXT_TOKENS", "1024"),
        ("OPENAI_MAX_OUTPUT_TOKENS", "1024"),
    ])
    .unwrap_err();
    assert!(
        err.problems[0].contains("OPENAI_CONTEXT_TOKENS (1024) must be larger"),
        "{err}"
    );
}

#[test]
fn mcp_hosts_and_origins() {
    let c = api(&[]).unwrap().mcp;
    assert!(c.enabled);
    assert_eq!(c.allowed_hosts, ["localhost", "127.0.0.1", "::1"]);
    assert!(c.allowed_origins.is_empty());
    let c = api(&[
        ("MCP_ENABLED", "false"),
        ("MCP_ALLOWED_HOSTS", "mcp.example.com, localhost:5555"),
        ("MCP_ALLOWED_ORIGINS", "https://app.example.com"),
    ])
    .unwrap()
    .mcp;
    assert!(!c.enabled);
    assert_eq!(c.allowed_hosts, ["mcp.example.com", "localhost:5555"]);
    assert_eq!(c.allowed_origins, ["https://app.example.com"]);
    let err = api(&[
        ("MCP_ALLOWED_ORIGINS", "*"),
        ("MCP_PUBLIC_URL", "mcp.example.com"),
    ])
    .unwrap_err();
    assert_eq!(err.problems.len(), 2, "{err}");
}

#[test]
fn the_assistant_mode_is_hybrid_with_a_model_and_never_a_model_without_one() {
    let mode = |pairs: &[(&str, &str)]| WorkerConfig::from_vars(vars(pairs)).map(|w| w.model.mode);
    assert_eq!(mode(&[]).unwrap(), AssistantMode::Offline);
    assert_eq!(
        mode(&[("OPENAI_API_KEY", "sk-test")]).unwrap(),
        AssistantMode::Hybrid
    );
    assert_eq!(
        mode(&[("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1")]).unwrap(),
        AssistantMode::Hybrid
    );
    assert_eq!(
        mode(&[("OPENAI_API_KEY", "sk-test"), ("ASSISTANT_MODE", "MODEL")]).unwrap(),
        AssistantMode::Model
    );
    let offline = WorkerConfig::from_vars(vars(&[
        ("OPENAI_API_KEY", "sk-test"),
        ("ASSISTANT_MODE", "offline"),
    ]))
    .unwrap();
    assert!(offline.model.offline(), "a key, but told to stay offline");
    let err = WorkerConfig::from_vars(vars(&[("ASSISTANT_MODE", "model")])).unwrap_err();
    assert!(
        err.problems[0].contains("ASSISTANT_MODE=model needs a model"),
        "{:?}",
        err.problems
    );
    let err = WorkerConfig::from_vars(vars(&[("ASSISTANT_MODE", "smart")])).unwrap_err();
    assert!(
        err.problems[0].starts_with("ASSISTANT_MODE: expected auto"),
        "{:?}",
        err.problems
    );
}
