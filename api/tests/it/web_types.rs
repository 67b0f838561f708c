//! The web app's types of what the API sends (tasks, conversations,
//! messages and every live event) are generated from `/openapi.json`, not
//! written by hand: `web/src/api-types.ts` must be exactly what this test
//! generates from the document, and the web app's type check (`scripts/web.sh
//! check`, in CI) then holds its code to them. After an API change:
//!
//!     UPDATE_API_TYPES=1 cargo test -p todo-api --test it web_types

use std::collections::BTreeSet;
use std::fmt::Write as _;

use reqwest::Method;
use serde_json::Value;

use crate::helpers::TestApp;

/// The schemas the web app reads, and every schema they refer to.
const ROOTS: &[&str] = &[
    "Task",
    "Conversation",
    "ChatMessage",
    "ServerEvent",
    "QuickAddInput",
    "QuickAddPreview",
];

const TARGET: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/src/api-types.ts");

fn schema_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

/// The TypeScript type of a JSON schema (OpenAPI 3.1), naming the schemas
/// it refers to in `refs`.
fn ts_type(schema: &Value, refs: &mut BTreeSet<String>) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = schema_name(reference).to_string();
        refs.insert(name.clone());
        return name;
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(items) = schema[key].as_array() {
            let parts: Vec<String> = items.iter().map(|s| ts_type(s, refs)).collect();
            return parts.join(" | ");
        }
    }
    if let Some(items) = schema["allOf"].as_array()
        && items.len() == 1
    {
        return ts_type(&items[0], refs);
    }
    if let Some(values) = schema["enum"].as_array() {
        let parts: Vec<String> = values.iter().map(Value::to_string).collect();
        return parts.join(" | ");
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if types.is_empty() {
        return "unknown".into();
    }
    let parts: Vec<String> = types
        .iter()
        .map(|t| match *t {
            "string" => "string".into(),
            "integer" | "number" => "number".into(),
            "boolean" => "boolean".into(),
            "null" => "null".into(),
            "array" => {
                let item = ts_type(&schema["items"], refs);
                if item.contains(' ') {
                    format!("({item})[]")
                } else {
                    format!("{item}[]")
                }
            }
            "object" if schema["properties"].is_object() => object(schema, refs, ""),
            _ => "Record<string, unknown>".into(),
        })
        .collect();
    parts.join(" | ")
}

/// Whether a schema allows null. Our optional fields are always sent (null
/// when empty), so a nullable property is present, possibly null.
fn nullable(schema: &Value) -> bool {
    let null = |s: &Value| s["type"] == "null";
    schema["type"]
        .as_array()
        .is_some_and(|ts| ts.iter().any(|t| t == "null"))
        || ["oneOf", "anyOf"].iter().any(|k| {
            schema[*k]
                .as_array()
                .is_some_and(|items| items.iter().any(null))
        })
}

/// An object schema as an inline type, each property on its own line.
fn object(schema: &Value, refs: &mut BTreeSet<String>, indent: &str) -> String {
    let required: BTreeSet<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut out = String::from("{\n");
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        if let Some(doc) = property["description"].as_str() {
            let _ = writeln!(out, "{indent}  /** {} */", doc.replace('\n', " "));
        }
        let optional = if required.contains(name.as_str()) || nullable(property) {
            ""
        } else {
            "?"
        };
        let _ = writeln!(
            out,
            "{indent}  {name}{optional}: {};",
            ts_type(property, refs)
        );
    }
    out.push_str(indent);
    out.push('}');
    out
}

/// The `ServerEvent` schema (one entry per event type, with `event`, the
/// `data` schema in `contentSchema`, and `id` when durable) as a union of
/// `{type, data, id}`.
fn server_events(schema: &Value, refs: &mut BTreeSet<String>) -> String {
    let mut out = String::from(
        "/** One event of `GET /api/{user_id}/events`: `type` is the SSE `event:` name, `data` its parsed JSON, `id` the user's event number (durable events only). */\nexport type ServerEvent =\n",
    );
    for entry in schema["oneOf"].as_array().expect("ServerEvent is a oneOf") {
        let kind = entry["properties"]["event"]["enum"][0]
            .as_str()
            .expect("each entry names its event");
        let data = ts_type(&entry["properties"]["data"]["contentSchema"], refs);
        let durable = entry["required"]
            .as_array()
            .is_some_and(|r| r.iter().any(|f| f == "id"));
        let id = if durable { "number" } else { "null" };
        let _ = writeln!(out, "  | {{ type: '{kind}'; id: {id}; data: {data} }}");
    }
    out.pop();
    out.push_str(";\n");
    out
}

fn generate(doc: &Value) -> String {
    let schemas = &doc["components"]["schemas"];
    let mut out = String::from(
        "// Generated from the API's /openapi.json by api/tests/it/web_types.rs; do not edit.\n\
         // After an API change: UPDATE_API_TYPES=1 cargo test -p todo-api --test it web_types\n",
    );
    let mut done = BTreeSet::new();
    let mut todo: Vec<String> = ROOTS.iter().rev().map(|s| s.to_string()).collect();
    while let Some(name) = todo.pop() {
        if !done.insert(name.clone()) {
            continue;
        }
        let schema = &schemas[&name];
        assert!(schema.is_object(), "no schema {name} in the document");
        let mut refs = BTreeSet::new();
        out.push('\n');
        if let Some(doc) = schema["description"].as_str()
            && name != "ServerEvent"
        {
            let _ = writeln!(out, "/** {} */", doc.replace('\n', " "));
        }
        if name == "ServerEvent" {
            out.push_str(&server_events(schema, &mut refs));
        } else if schema["properties"].is_object() {
            let _ = writeln!(
                out,
                "export interface {name} {}",
                object(schema, &mut refs, "")
            );
        } else {
            let _ = writeln!(out, "export type {name} = {};", ts_type(schema, &mut refs));
        }
        todo.extend(refs.into_iter().rev());
    }
    out
}

#[tokio::test]
async fn the_web_apps_api_types_are_generated_from_the_document() {
    let app = TestApp::spawn().await;
    let doc: Value = app
        .call(Method::GET, "/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    let generated = generate(&doc);
    // Every event type is in the union, with its payload's type.
    for (kind, data, ..) in todo_common::events::KINDS {
        assert!(
            generated.contains(&format!("type: '{kind}'")) && generated.contains(data),
            "{kind} is missing from the generated types"
        );
    }
    if std::env::var_os("UPDATE_API_TYPES").is_some() {
        std::fs::write(TARGET, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(TARGET).unwrap_or_default();
    assert!(
        committed == generated,
        "web/src/api-types.ts is not what the API's document says; regenerate it:\n  \
         UPDATE_API_TYPES=1 cargo test -p todo-api --test it web_types"
    );
}
