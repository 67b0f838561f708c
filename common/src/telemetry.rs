//! Logging and error reporting shared by every binary: one line per event,
//! JSON with LOG_FORMAT=json, level from LOG_LEVEL (RUST_LOG, when set, wins
//! for per-module tuning). With SENTRY_DSN, ERROR events and panics go to
//! Sentry too (warnings and info become breadcrumbs). lapin's own ERROR
//! events are shown as WARN (see [`LapinAtWarn`]).

use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::{General, LogFormat, Observability};

/// Keep it alive for the life of the process: dropping it flushes pending
/// Sentry events.
#[must_use = "dropping the guard stops error reporting"]
pub struct TelemetryGuard {
    _sentry: Option<sentry::ClientInitGuard>,
}

/// Installs the global subscriber, writing to stdout. Safe to call more than
/// once (tests): later calls keep the first subscriber.
pub fn init(general: &General, config: &Observability) -> TelemetryGuard {
    // Colours only for a person at a terminal, not in log files.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    install(general, config, std::io::stdout, ansi)
}

/// [`init`] writing to `writer` instead, without colours: for a test that
/// reads what an operator would see.
pub fn init_writing_to<W>(general: &General, config: &Observability, writer: W) -> TelemetryGuard
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    install(general, config, writer, false)
}

fn install<W>(general: &General, config: &Observability, writer: W, ansi: bool) -> TelemetryGuard
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let sentry = config.sentry_dsn.as_ref().and_then(|dsn| {
        let parsed = dsn.expose().parse().map_err(|e| {
            eprintln!("SENTRY_DSN is not a valid DSN ({e}); error reporting is off");
        });
        parsed.ok().map(|dsn| {
            let mut options = sentry::ClientOptions::default();
            options.dsn = Some(dsn);
            options.release = Some(crate::VERSION.into());
            options.environment = Some(general.environment.as_str().into());
            // Never send request bodies, headers or user IPs.
            options.send_default_pii = false;
            sentry::init(options)
        })
    });
    let sentry_layer = sentry.is_some().then(|| {
        sentry::integrations::tracing::layer().event_filter(|meta| {
            if is_lapin_error(meta) {
                // A warning's treatment: context for a real error, never a report of its own.
                sentry::integrations::tracing::EventFilter::Breadcrumb
            } else {
                sentry::integrations::tracing::default_event_filter(meta)
            }
        })
    });

    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        // Dependencies are noisy at debug; keep them at warn unless asked.
        EnvFilter::new(format!(
            "warn,todo_api={l},todo_worker={l},todo_common={l},tower_http={l}",
            l = config.log_level
        ))
    });
    let output = match config.log_format {
        LogFormat::Json => fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .map_event_format(LapinAtWarn)
            .with_writer(writer)
            .boxed(),
        LogFormat::Text => fmt::layer()
            .with_ansi(ansi)
            .map_event_format(LapinAtWarn)
            .with_writer(writer)
            .boxed(),
    };
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(sentry_layer)
        .with(output)
        .try_init();
    TelemetryGuard { _sentry: sentry }
}

/// An ERROR event of lapin, the RabbitMQ client.
fn is_lapin_error(meta: &Metadata<'_>) -> bool {
    *meta.level() == Level::ERROR
        && (meta.target() == "lapin" || meta.target().starts_with("lapin::"))
}

/// Shows lapin's ERROR events as WARN, with target `lapin` and the original
/// target in `lapin_target`. lapin logs ERROR for every connection and
/// channel a broker restart closes (`Connection error`, `Channel closed`),
/// which every process rides out by reconnecting: an operator paging on
/// ERROR would be woken for nothing (issue 19).
///
/// Why rewrite rather than filter lapin out: its lines carry what the broker
/// said (a PRECONDITION_FAILED's reply text, the reason a connection was
/// closed), which our own reconnect lines do not repeat; they stay, one
/// level down. tracing fixes an event's level at its call site, so a filter
/// cannot lower it; this formatter re-states the event on a WARN call site
/// of its own just before it is written. (Re-emitting it through the
/// dispatcher instead would nest an event inside another's per-layer
/// filtering and could be dropped under a scoped dispatcher.)
struct LapinAtWarn<E>(E);

impl<S, N, E> FormatEvent<S, N> for LapinAtWarn<E>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    E: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        if !is_lapin_error(event.metadata()) {
            return self.0.format_event(ctx, writer, event);
        }
        let callsite = tracing::callsite! {
            name: "lapin error shown as a warning",
            kind: tracing::metadata::Kind::EVENT,
            target: "lapin",
            level: Level::WARN,
            fields: message, lapin_target
        };
        let meta = tracing::Callsite::metadata(callsite);
        let fields = meta.fields();
        let (Some(message), Some(lapin_target)) =
            (fields.field("message"), fields.field("lapin_target"))
        else {
            return self.0.format_event(ctx, writer, event);
        };
        let mut line = OneLine::default();
        event.record(&mut line);
        let text = line.into_text();
        let text = text.as_str();
        let origin = event.metadata().target();
        let values: [(&Field, Option<&dyn tracing::Value>); 2] =
            [(&message, Some(&text)), (&lapin_target, Some(&origin))];
        let values = fields.value_set(&values);
        let warning = if event.is_contextual() {
            Event::new(meta, &values)
        } else {
            Event::new_child_of(event.parent().cloned(), meta, &values)
        };
        self.0.format_event(ctx, writer, &warning)
    }
}

/// An event's fields as one message: its own message, then `name=value`
/// for the others.
#[derive(Default)]
struct OneLine {
    message: String,
    others: String,
}

impl OneLine {
    fn into_text(self) -> String {
        match (self.message.is_empty(), self.others.is_empty()) {
            (_, true) => self.message,
            (true, false) => self.others,
            (false, false) => format!("{} {}", self.message, self.others),
        }
    }
}

impl Visit for OneLine {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.record_debug(field, &value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            if !self.others.is_empty() {
                self.others.push(' ');
            }
            let _ = write!(self.others, "{}={value:?}", field.name());
        }
    }
}
