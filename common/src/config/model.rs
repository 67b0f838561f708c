//! The model: an OpenAI-compatible server, or the built-in offline assistant.

use std::time::Duration;

use super::parse::http_url;
use super::{Reader, Secret, ShowDefault};

/// Which request field carries the output limit (OPENAI_MAX_TOKENS_FIELD).
/// OpenAI refuses `max_tokens` for its newer models and refuses the two
/// fields together; Ollama and older llama.cpp/vLLM read only `max_tokens`
/// (docs/models.md, "Output limit and timeouts").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxTokensField {
    /// `max_completion_tokens` for OpenAI and Azure OpenAI, `max_tokens`
    /// for every other server.
    Auto,
    MaxCompletionTokens,
    MaxTokens,
}

impl ShowDefault for MaxTokensField {
    fn show(&self) -> String {
        match self {
            Self::Auto => "auto",
            Self::MaxCompletionTokens => "max_completion_tokens",
            Self::MaxTokens => "max_tokens",
        }
        .into()
    }
}

/// Who answers a chat turn (ASSISTANT_MODE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssistantMode {
    /// The offline assistant answers what it fully understands, with no
    /// model call; the model answers everything else.
    Hybrid,
    /// The model answers every turn.
    Model,
    /// The built-in offline assistant answers every turn.
    Offline,
}

impl AssistantMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hybrid => "hybrid",
            Self::Model => "model",
            Self::Offline => "offline",
        }
    }
}

/// ASSISTANT_MODE as set: `auto` resolves against the model settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ModeSetting {
    Auto,
    Set(AssistantMode),
}

impl ShowDefault for ModeSetting {
    fn show(&self) -> String {
        match self {
            Self::Auto => "auto".into(),
            Self::Set(mode) => mode.as_str().into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Model {
    /// Who answers turns, resolved: never `Hybrid` or `Model` without a
    /// model configured.
    pub mode: AssistantMode,
    pub api_key: Option<Secret>,
    pub name: String,
    pub base_url: Option<String>,
    /// The ceiling of one model request, start to end, however steadily it
    /// streams.
    pub timeout: Duration,
    /// How long a request may go before the first byte of the answer
    /// (prompt processing, a model loading).
    pub first_byte_timeout: Duration,
    /// The longest silence allowed between two pieces of a streamed answer;
    /// a longer one is a stalled stream.
    pub idle_timeout: Duration,
    /// The output limit sent with every request.
    pub max_output_tokens: u32,
    /// Which request field carries that limit.
    pub max_tokens_field: MaxTokensField,
    /// The model's context window in tokens; None: no budget but
    /// CHAT_HISTORY_LIMIT.
    pub context_tokens: Option<u32>,
    /// Tries per model call (5xx, timeouts).
    pub max_attempts: u32,
    /// The account's per-minute limits; unset: learnt from headers.
    pub rpm: Option<u32>,
    pub tpm: Option<u32>,
    /// The fraction of those limits the workers aim to use.
    pub limit_target: f64,
}

impl Model {
    pub fn read(r: &mut Reader) -> Self {
        r.section("model");
        let api_key = r.var(
            "OPENAI_API_KEY",
            "Without it (and without `OPENAI_BASE_URL`) workers use the built-in offline assistant; its replies carry `\"offline\": true` in their metadata.",
        ).optional_secret();
        let name = r
            .var("OPENAI_MODEL", "Model name sent to the provider.")
            .string("gpt-4-turbo");
        let base_url = r.var(
            "OPENAI_BASE_URL",
            "Any OpenAI-compatible server (Ollama, vLLM, llama.cpp), e.g. `http://localhost:11434/v1`; see docs/models.md.",
        ).parse(None, |v| http_url(v).map(Some));
        // The ceiling lets a slow local model (~10 tokens/s) write a whole
        // answer of OPENAI_MAX_OUTPUT_TOKENS; the two below catch a dead one.
        let timeout = Duration::from_secs(
            r.var(
                "OPENAI_TIMEOUT_SECONDS",
                "The ceiling of one model request, start to end, however steadily it streams: long enough for a slow local model (about 10 tokens/s) to write `OPENAI_MAX_OUTPUT_TOKENS`. See docs/models.md, \"Output limit and timeouts\".",
            )
            .positive(300u64),
        );
        let first_byte_timeout = Duration::from_secs(
            r.var(
                "OPENAI_FIRST_BYTE_TIMEOUT_SECONDS",
                "How long a model request may wait for the first byte of its answer (prompt processing, a model loading); then it is retried.",
            )
            .positive(60u64),
        );
        let idle_timeout = Duration::from_secs(
            r.var(
                "OPENAI_IDLE_TIMEOUT_SECONDS",
                "The longest silence allowed between two pieces of a streamed answer; a longer one is a stalled stream, cut and retried.",
            )
            .positive(30u64),
        );
        let max_output_tokens = r.var(
            "OPENAI_MAX_OUTPUT_TOKENS",
            "The output limit every model request carries. An answer cut there (`finish_reason: \"length\"`) is kept, ends with a note that it was cut short, and is not retried; the rate limiter counts the limit in each request's token estimate.",
        ).positive(1024u32);
        let max_tokens_field = r.var(
            "OPENAI_MAX_TOKENS_FIELD",
            "Which request field carries that limit: `auto` (`max_completion_tokens` for OpenAI and Azure OpenAI, `max_tokens` for every other server), `max_completion_tokens` or `max_tokens`. Never both: OpenAI refuses the pair.",
        ).parse(MaxTokensField::Auto, |v| match v.to_ascii_lowercase().as_str() {
            "auto" => Ok(MaxTokensField::Auto),
            "max_completion_tokens" => Ok(MaxTokensField::MaxCompletionTokens),
            "max_tokens" => Ok(MaxTokensField::MaxTokens),
            _ => Err("expected auto, max_completion_tokens or max_tokens".to_string()),
        });
        let context_tokens: Option<u32> = r.var(
            "OPENAI_CONTEXT_TOKENS",
            "The model's context window (per parallel request: llama.cpp's `-c` divided by `-np`, Ollama's `OLLAMA_CONTEXT_LENGTH`, vLLM's `--max-model-len`). When set, the oldest history is left out of a request until its estimated prompt plus `OPENAI_MAX_OUTPUT_TOKENS` fits, so a long conversation keeps working instead of being refused. Unset: only `CHAT_HISTORY_LIMIT` bounds the history (fine for OpenAI's large windows).",
        ).optional_positive();
        if let Some(context) = context_tokens
            && context <= max_output_tokens
        {
            r.problem(format!(
                "OPENAI_CONTEXT_TOKENS ({context}) must be larger than OPENAI_MAX_OUTPUT_TOKENS ({max_output_tokens}): the answer has to fit in the context with its prompt"
            ));
        }
        let max_attempts = r.var(
            "OPENAI_MAX_ATTEMPTS",
            "Tries per model call on 5xx/timeouts (exponential backoff, full jitter, or the server's `retry-after-ms`/`retry-after`). Rate-limit 429s wait for the shared limiter instead and do not use up attempts (for up to 10 minutes); `insufficient_quota` is never retried.",
        ).positive(5u32);
        let rpm = r.var(
            "OPENAI_RPM",
            "The account's requests per minute. Every worker paces model calls through one limiter in PostgreSQL. Unset: learnt from the server's `x-ratelimit-limit-*` headers; servers that send none (Ollama, vLLM) are only paced by their 429s.",
        ).optional_positive();
        let tpm = r
            .var(
                "OPENAI_TPM",
                "The account's tokens per minute; unset: learnt as for `OPENAI_RPM`.",
            )
            .optional_positive();
        let limit_target = r
            .var(
                "OPENAI_LIMIT_TARGET",
                "The fraction of those limits the workers aim to use.",
            )
            .parse(0.9f64, |v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|t| *t > 0.0 && *t <= 1.0)
                    .ok_or_else(|| "expected a fraction in (0, 1], e.g. 0.9".to_string())
            });
        let setting = r.var(
            "ASSISTANT_MODE",
            "Who answers chat turns: `hybrid` (the offline assistant answers what it fully understands, such as \"add call mom tomorrow at 5pm\" or \"done with 3\", at once and with no model call; the model answers everything else), `model` (the model answers every turn) or `offline` (the built-in assistant answers every turn, even with a model configured). `auto`: `hybrid` with a model configured (`OPENAI_API_KEY` or `OPENAI_BASE_URL`), else `offline`. Hybrid is the default because a command the offline assistant is sure of gains nothing from a model but seconds and rate limit; each turn records who answered (`answered_by` in its metadata, `turns_answered_total{by}`).",
        ).parse(ModeSetting::Auto, |v| match v.to_ascii_lowercase().as_str() {
            "auto" => Ok(ModeSetting::Auto),
            "hybrid" => Ok(ModeSetting::Set(AssistantMode::Hybrid)),
            "model" => Ok(ModeSetting::Set(AssistantMode::Model)),
            "offline" => Ok(ModeSetting::Set(AssistantMode::Offline)),
            _ => Err("expected auto, hybrid, model or offline".to_string()),
        });
        let configured = api_key.is_some() || base_url.is_some();
        let mode = match setting {
            ModeSetting::Auto if configured => AssistantMode::Hybrid,
            ModeSetting::Auto => AssistantMode::Offline,
            ModeSetting::Set(mode @ (AssistantMode::Hybrid | AssistantMode::Model))
                if !configured =>
            {
                r.problem(format!(
                    "ASSISTANT_MODE={} needs a model: set OPENAI_API_KEY or OPENAI_BASE_URL (or ASSISTANT_MODE=offline)",
                    mode.as_str()
                ));
                AssistantMode::Offline
            }
            ModeSetting::Set(mode) => mode,
        };
        Self {
            mode,
            api_key,
            name,
            base_url,
            timeout,
            first_byte_timeout,
            idle_timeout,
            max_output_tokens,
            max_tokens_field,
            context_tokens,
            max_attempts,
            rpm,
            tpm,
            limit_target,
        }
    }

    /// True when no model is used: no provider is configured, or
    /// ASSISTANT_MODE=offline. Workers use the built-in offline assistant.
    pub fn offline(&self) -> bool {
        self.mode == AssistantMode::Offline
    }

    /// The request field the output limit goes in: OPENAI_MAX_TOKENS_FIELD
    /// resolved against OPENAI_BASE_URL.
    pub fn output_limit_field(&self) -> &'static str {
        match self.max_tokens_field {
            MaxTokensField::MaxCompletionTokens => "max_completion_tokens",
            MaxTokensField::MaxTokens => "max_tokens",
            MaxTokensField::Auto if self.is_openai() => "max_completion_tokens",
            MaxTokensField::Auto => "max_tokens",
        }
    }

    /// True for OpenAI itself (the default server) and Azure OpenAI.
    pub fn is_openai(&self) -> bool {
        let Some(url) = &self.base_url else {
            return true;
        };
        let host = url
            .split_once("://")
            .map_or(url.as_str(), |(_, rest)| rest)
            .split(['/', ':', '?'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        host == "api.openai.com" || host.ends_with(".openai.azure.com")
    }
}
