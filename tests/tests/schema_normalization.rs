//! The normalised input schema of a table of Rust types, against exact expected JSON: no
//! `$ref`/`$defs`, no `$schema`, no `[T, "null"]`, optional fields not required, enums typed.

use std::collections::{BTreeMap, HashMap};

use musehub_mcp::protocol::schema::{self, SchemaError, generate, normalize};
use musehub_mcp::schemars::JsonSchema;
use musehub_mcp::serde_json::{Value, json};
use musehub_mcp::{schema, schemars};

fn input<T: JsonSchema>() -> Value {
    normalize(generate::<T>(), true).expect("normalises")
}

/// A point.
#[schema]
struct Point {
    x: f64,
    y: f64,
}

/// Nested and optional structs.
#[schema]
struct Shape {
    /// Where it starts.
    origin: Point,
    /// An optional second point.
    end: Option<Point>,
    label: Option<String>,
    tags: Vec<String>,
}

#[schema]
#[serde(rename_all = "snake_case")]
enum Colour {
    Red,
    DarkBlue,
}

#[schema]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Event {
    Note { pitch: u8 },
    Rest { beats: f32 },
}

#[schema]
struct WithEnums {
    colour: Colour,
    maybe_colour: Option<Colour>,
    event: Event,
}

#[schema]
#[serde(rename_all = "camelCase")]
struct Renamed {
    repo_id: String,
    #[serde(rename = "ownerHandle")]
    owner: String,
    #[serde(default)]
    is_private: bool,
}

#[schema]
struct Paging {
    page: Option<u32>,
    per_page: Option<u32>,
}

#[schema]
struct Flattened {
    query: String,
    #[serde(flatten)]
    paging: Paging,
}

/// An RFC 3339 timestamp, like chrono's `DateTime` serialises.
#[schema]
struct Timestamp(String);

#[schema]
struct Maps {
    counts: HashMap<String, u32>,
    ordered: BTreeMap<String, Timestamp>,
    when: Timestamp,
}

#[schema]
struct Node {
    children: Vec<Node>,
}

#[test]
fn nested_optional_structs_are_inlined() {
    assert_eq!(
        input::<Shape>(),
        json!({
            "description": "Nested and optional structs.",
            "type": "object",
            "properties": {
                "origin": {
                    "description": "Where it starts.",
                    "type": "object",
                    "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                    "required": ["x", "y"]
                },
                "end": {
                    "description": "An optional second point.",
                    "type": "object",
                    "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                    "required": ["x", "y"]
                },
                "label": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}}
            },
            "required": ["origin", "tags"]
        })
    );
}

#[test]
fn enums_are_typed_and_optional_enums_plain() {
    assert_eq!(
        input::<WithEnums>(),
        json!({
            "type": "object",
            "properties": {
                "colour": {"type": "string", "enum": ["red", "dark_blue"]},
                "maybe_colour": {"type": "string", "enum": ["red", "dark_blue"]},
                "event": {"oneOf": [
                    {"type": "object", "properties": {"kind": {"type": "string", "const": "note"}, "pitch": {"type": "integer", "minimum": 0, "maximum": 255}}, "required": ["kind", "pitch"]},
                    {"type": "object", "properties": {"kind": {"type": "string", "const": "rest"}, "beats": {"type": "number"}}, "required": ["kind", "beats"]}
                ]}
            },
            "required": ["colour", "event"]
        })
    );
}

#[test]
fn renamed_fields_use_wire_names() {
    assert_eq!(
        input::<Renamed>(),
        json!({
            "type": "object",
            "properties": {
                "repoId": {"type": "string"},
                "ownerHandle": {"type": "string"},
                "isPrivate": {"type": "boolean", "default": false}
            },
            "required": ["repoId", "ownerHandle"]
        })
    );
}

#[test]
fn flattened_fields_merge_into_the_parent() {
    assert_eq!(
        input::<Flattened>(),
        json!({
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "page": {"type": "integer", "minimum": 0},
                "per_page": {"type": "integer", "minimum": 0}
            },
            "required": ["query"]
        })
    );
}

#[test]
fn maps_and_newtypes() {
    assert_eq!(
        input::<Maps>(),
        json!({
            "type": "object",
            "properties": {
                "counts": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
                "ordered": {"type": "object", "additionalProperties": {"description": "An RFC 3339 timestamp, like chrono's `DateTime` serialises.", "type": "string"}},
                "when": {"description": "An RFC 3339 timestamp, like chrono's `DateTime` serialises.", "type": "string"}
            },
            "required": ["counts", "ordered", "when"]
        })
    );
}

#[test]
fn recursive_types_fail_with_their_name() {
    assert_eq!(
        normalize(generate::<Node>(), true),
        Err(SchemaError::Recursive("Node".into()))
    );
}

#[test]
fn non_object_inputs_are_refused_but_outputs_allowed() {
    assert!(matches!(
        normalize(generate::<Vec<u8>>(), true),
        Err(SchemaError::NotAnObject(_))
    ));
    assert_eq!(
        normalize(generate::<Option<Vec<bool>>>(), false).unwrap(),
        json!({"type": "array", "items": {"type": "boolean"}})
    );
}

#[test]
fn nothing_client_hostile_survives() {
    fn walk(v: &Value) {
        match v {
            Value::Object(m) => {
                for bad in ["$ref", "$defs", "$schema", "definitions"] {
                    assert!(!m.contains_key(bad), "{bad} left in {v}");
                }
                if let Some(Value::Array(types)) = m.get("type") {
                    assert!(!types.contains(&json!("null")), "nullable type left in {v}");
                }
                if m.contains_key("enum") {
                    assert!(m.contains_key("type"), "untyped enum in {v}");
                }
                m.values().for_each(walk);
            }
            Value::Array(a) => a.iter().for_each(walk),
            _ => {}
        }
    }
    for s in [
        input::<Shape>(),
        input::<WithEnums>(),
        input::<Renamed>(),
        input::<Flattened>(),
        input::<Maps>(),
    ] {
        walk(&s);
    }
}

// `schemars` is reachable through `musehub_mcp` alone; this keeps the import honest.
#[allow(dead_code)]
fn _uses_reexport(_: schemars::Schema) {}
#[allow(dead_code)]
fn _uses_schema_mod() -> Value {
    schema::generate::<Point>()
}
