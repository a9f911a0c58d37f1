//! Turning schemars' output into JSON Schemas that every real MCP client accepts.
//!
//! Clients reject raw schemars output in practice: `$ref`/`$defs` break Claude Desktop,
//! VS Code, Gemini and Cursor; `"type": [T, "null"]` and `$schema` break Gemini and strict
//! gateways; an `enum` without `type` is refused by some validators. So each schema is
//! generated once and then normalised:
//!
//! - every `$ref` into `$defs` is inlined (a recursive type is an error, reported at start-up);
//! - `$schema`, `$defs` and the root `title` (a Rust type name) are dropped;
//! - `Option<T>` (`[T, "null"]`, `anyOf: [T, null]`) becomes plain `T` and is not required;
//! - an `enum` or `const` without `type` gets one inferred from its values;
//! - schemars-only integer formats (`uint32`, `double`, ...) are dropped: they are not JSON
//!   Schema formats and strict clients refuse unknown ones;
//! - input schemas must have an object root.

use serde_json::{Map, Value};

/// Why a schema could not be normalised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The type refers to itself; inlining would never end, and clients refuse `$ref`.
    #[error(
        "type `{0}` is recursive: tool schemas must be inlined (clients reject `$ref`), so recursive types cannot be tool arguments or results; supply the schema verbatim with `input_schema = ...` or break the recursion"
    )]
    Recursive(String),
    /// A `$ref` points somewhere other than the schema's own `$defs`.
    #[error(
        "unsupported `$ref` `{0}`: only references into the schema's own `$defs` can be inlined"
    )]
    UnsupportedRef(String),
    /// An input schema whose root is not an object.
    #[error("a tool's input schema must describe an object (got {0}); wrap the value in a struct")]
    NotAnObject(String),
}

/// Formats that schemars emits for Rust number types but that no JSON Schema draft defines.
const RUST_ONLY_FORMATS: &[&str] = &[
    "uint", "uint8", "uint16", "uint32", "uint64", "uint128", "int", "int8", "int16", "int128",
    "float", "double", "uintptr", "intptr",
];

/// Normalises a generated schema (see the module docs). `require_object` is set for input
/// schemas and output schemas, which the spec types as objects.
pub fn normalize(schema: Value, require_object: bool) -> Result<Value, SchemaError> {
    let Value::Object(mut root) = schema else {
        // `true` / `false` schemas: accept anything / nothing. Only an input needs an object.
        return if require_object {
            Err(SchemaError::NotAnObject("a boolean schema".into()))
        } else {
            Ok(schema)
        };
    };
    let defs = match root.remove("$defs") {
        Some(Value::Object(d)) => d,
        _ => Map::new(),
    };
    root.remove("$schema");
    let root_name = match root.remove("title") {
        Some(Value::String(t)) => t,
        _ => "the root type".to_string(),
    };
    // A self-reference to the root (`"$ref": "#"`) is recursion too.
    let mut stack = vec![format!("#{root_name}")];
    let mut out = inline(Value::Object(root), &defs, &mut stack)?;
    clean(&mut out);
    if require_object {
        ensure_object_root(&mut out)?;
    }
    Ok(out)
}

fn ensure_object_root(schema: &mut Value) -> Result<(), SchemaError> {
    let obj = schema
        .as_object_mut()
        .ok_or_else(|| SchemaError::NotAnObject("a boolean schema".into()))?;
    match obj.get("type") {
        Some(Value::String(t)) if t == "object" => {}
        None if obj.contains_key("properties") || obj.is_empty() => {
            obj.insert("type".into(), "object".into());
        }
        other => {
            return Err(SchemaError::NotAnObject(match other {
                Some(t) => format!("type {t}"),
                None => "a schema without `type: object`".into(),
            }));
        }
    }
    // Clients iterate `properties`; give argument-less tools an empty map.
    obj.entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    Ok(())
}

fn inline(
    value: Value,
    defs: &Map<String, Value>,
    stack: &mut Vec<String>,
) -> Result<Value, SchemaError> {
    match value {
        Value::Object(mut obj) => {
            if let Some(Value::String(r)) = obj.remove("$ref") {
                if r == "#" {
                    let root = stack.first().map(|s| s.trim_start_matches('#').to_string());
                    return Err(SchemaError::Recursive(root.unwrap_or_default()));
                }
                let name = r
                    .strip_prefix("#/$defs/")
                    .or_else(|| r.strip_prefix("#/definitions/"))
                    .ok_or_else(|| SchemaError::UnsupportedRef(r.clone()))?
                    .to_string();
                if stack.contains(&name) {
                    return Err(SchemaError::Recursive(name));
                }
                let target = defs
                    .get(&name)
                    .cloned()
                    .ok_or_else(|| SchemaError::UnsupportedRef(r.clone()))?;
                stack.push(name);
                let resolved = inline(target, defs, stack)?;
                stack.pop();
                // Keys beside the `$ref` (a field's description, a default) win over the target's.
                let mut merged = match resolved {
                    Value::Object(m) => m,
                    other => return Ok(other),
                };
                merged.remove("title");
                for (k, v) in obj {
                    merged.insert(k, inline(v, defs, stack)?);
                }
                return Ok(Value::Object(merged));
            }
            let mut out = Map::with_capacity(obj.len());
            for (k, v) in obj {
                // `properties` is a map of names to schemas, not a schema: recurse into values.
                let v = if k == "properties" || k == "patternProperties" {
                    match v {
                        Value::Object(props) => {
                            let mut m = Map::with_capacity(props.len());
                            for (pk, pv) in props {
                                m.insert(pk, inline(pv, defs, stack)?);
                            }
                            Value::Object(m)
                        }
                        other => other,
                    }
                } else {
                    inline(v, defs, stack)?
                };
                out.insert(k, v);
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => items
            .into_iter()
            .map(|v| inline(v, defs, stack))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Ok(other),
    }
}

/// Strips nullability, infers enum types and drops Rust-only formats, bottom-up.
/// Returns true when the schema accepted `null` before cleaning (an `Option<T>`).
fn clean(value: &mut Value) -> bool {
    let Value::Object(obj) = value else {
        return false;
    };
    // Recurse first into every subschema position.
    if let Some(Value::Object(props)) = obj.get_mut("properties") {
        let mut nullable = Vec::new();
        for (name, prop) in props.iter_mut() {
            if clean(prop) {
                nullable.push(name.clone());
            }
        }
        if let Some(Value::Array(req)) = obj.get_mut("required") {
            req.retain(|r| !r.as_str().is_some_and(|s| nullable.iter().any(|n| n == s)));
            if req.is_empty() {
                obj.remove("required");
            }
        }
    }
    for key in [
        "items",
        "additionalProperties",
        "not",
        "contains",
        "propertyNames",
    ] {
        if let Some(sub) = obj.get_mut(key) {
            clean(sub);
        }
    }
    for key in ["allOf", "prefixItems"] {
        if let Some(Value::Array(subs)) = obj.get_mut(key) {
            for s in subs {
                clean(s);
            }
        }
    }

    let mut nullable = false;
    if let Some(Value::Array(types)) = obj.get("type") {
        let non_null: Vec<Value> = types
            .iter()
            .filter(|t| t.as_str() != Some("null"))
            .cloned()
            .collect();
        if non_null.len() < types.len() {
            nullable = true;
        }
        match non_null.len() {
            0 => {
                obj.insert("type".into(), "null".into());
            }
            1 => {
                obj.insert("type".into(), non_null[0].clone());
            }
            _ => {
                obj.insert("type".into(), Value::Array(non_null));
            }
        }
    }
    for key in ["anyOf", "oneOf"] {
        let Some(Value::Array(branches)) = obj.get_mut(key) else {
            continue;
        };
        let before = branches.len();
        branches.retain(|b| !is_null_schema(b));
        if branches.len() < before {
            nullable = true;
        }
        for b in branches.iter_mut() {
            clean(b);
        }
        if branches.len() == 1 {
            // `anyOf: [T]` is just `T`: hoist it, keeping this level's own keys.
            let Some(Value::Array(mut only)) = obj.remove(key) else {
                continue;
            };
            if let Some(Value::Object(inner)) = only.pop() {
                for (k, v) in inner {
                    obj.entry(k).or_insert(v);
                }
            }
        }
    }
    if let Some(Value::Array(values)) = obj.get_mut("enum") {
        let before = values.len();
        values.retain(|v| !v.is_null());
        if values.len() < before {
            nullable = true;
        }
    }
    if nullable && obj.get("default") == Some(&Value::Null) {
        obj.remove("default");
    }
    if !obj.contains_key("type") {
        let inferred = match (obj.get("enum"), obj.get("const")) {
            (Some(Value::Array(values)), _) => infer_type(values),
            (None, Some(c)) => infer_type(std::slice::from_ref(c)),
            _ => None,
        };
        if let Some(t) = inferred {
            obj.insert("type".into(), t.into());
        }
    }
    if let Some(Value::String(f)) = obj.get("format")
        && RUST_ONLY_FORMATS.contains(&f.as_str())
    {
        obj.remove("format");
    }
    nullable
}

fn is_null_schema(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null")
        || v.get("const").is_some_and(Value::is_null)
}

fn infer_type(values: &[Value]) -> Option<&'static str> {
    let kind = |v: &Value| match v {
        Value::String(_) => Some("string"),
        Value::Bool(_) => Some("boolean"),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some("integer"),
        Value::Number(_) => Some("number"),
        _ => None,
    };
    let mut kinds = values.iter().map(kind);
    let first = kinds.next()??;
    let mut all = first;
    for k in kinds {
        match (all, k?) {
            (a, b) if a == b => {}
            ("integer", "number") | ("number", "integer") => all = "number",
            _ => return None,
        }
    }
    Some(all)
}

/// Generates the schema of `T` with the settings the registry uses (JSON Schema 2020-12).
pub fn generate<T: schemars::JsonSchema>() -> Value {
    let mut g = generator();
    g.root_schema_for::<T>().to_value()
}

/// The generator every registry schema comes from.
pub fn generator() -> schemars::SchemaGenerator {
    schemars::generate::SchemaSettings::draft2020_12().into_generator()
}

/// Keywords that constrain a value beyond what deserialising into its Rust type checks
/// (types, required members, enum variants, and the ranges of integer types).
const CONSTRAINTS: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "patternProperties",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "const",
    "not",
    "if",
    "dependentRequired",
    "dependentSchemas",
    "contains",
    "propertyNames",
];

/// The natural bounds schemars writes for an integer `format` (which serde enforces too).
fn integer_bounds(format: &str) -> Option<(f64, f64)> {
    Some(match format {
        "int8" => (i8::MIN as f64, i8::MAX as f64),
        "int16" => (i16::MIN as f64, i16::MAX as f64),
        "int32" => (i32::MIN as f64, i32::MAX as f64),
        "int64" | "int" => (i64::MIN as f64, i64::MAX as f64),
        "uint8" => (0.0, u8::MAX as f64),
        "uint16" => (0.0, u16::MAX as f64),
        "uint32" => (0.0, u32::MAX as f64),
        "uint64" | "uint" => (0.0, u64::MAX as f64),
        _ => return None,
    })
}

/// True when `schema` (as generated, before normalising) holds a constraint that typed
/// deserialisation does not check, so arguments need a validator as well.
pub fn has_constraints(schema: &Value) -> bool {
    constrains(schema, Place::Plain)
}

/// Where a subschema sits, for the one keyword whose meaning depends on it: a string `const`
/// is how schemars writes a documented unit variant (a branch of `oneOf`/`anyOf`) or an
/// enum's tag (a property of such a branch), both of which serde checks; anywhere else it is
/// a constraint of its own.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    Plain,
    Variant,
    Tag,
}

fn any_of<'a>(subs: impl IntoIterator<Item = &'a Value>, place: Place) -> bool {
    subs.into_iter().any(|s| constrains(s, place))
}

fn constrains(schema: &Value, place: Place) -> bool {
    let Value::Object(m) = schema else {
        return false;
    };
    let bounds = m
        .get("format")
        .and_then(Value::as_str)
        .and_then(integer_bounds);
    for (k, v) in m {
        if CONSTRAINTS.contains(&k.as_str()) {
            // `"minimum": 0` on a `uint32` is the type's own bound, not a constraint.
            let natural = match (k.as_str(), bounds, v.as_f64()) {
                ("minimum", Some((lo, _)), Some(x)) => x <= lo,
                ("maximum", Some((_, hi)), Some(x)) => x >= hi,
                ("const", _, _) => v.is_string() && place != Place::Plain,
                _ => false,
            };
            if !natural {
                return true;
            }
            continue;
        }
        let nested = match k.as_str() {
            // Maps of subschemas keyed by name: the names are data. A variant's properties
            // may hold its tag.
            "properties" => {
                let at = if place == Place::Variant {
                    Place::Tag
                } else {
                    Place::Plain
                };
                v.as_object().is_some_and(|subs| any_of(subs.values(), at))
            }
            "$defs" | "definitions" => v
                .as_object()
                .is_some_and(|subs| any_of(subs.values(), Place::Plain)),
            "items" | "additionalProperties" | "unevaluatedProperties" | "then" | "else" => {
                constrains(v, Place::Plain)
            }
            "anyOf" | "oneOf" => v
                .as_array()
                .is_some_and(|subs| any_of(subs, Place::Variant)),
            "allOf" | "prefixItems" => v.as_array().is_some_and(|subs| any_of(subs, Place::Plain)),
            _ => false,
        };
        if nested {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn constraints_beyond_the_type_need_a_validator() {
        #[derive(schemars::JsonSchema)]
        #[allow(dead_code)]
        struct Plain {
            a: u32,
            b: u8,
            c: i64,
            s: Option<String>,
            v: Vec<u16>,
        }
        assert!(
            !has_constraints(&generate::<Plain>()),
            "{}",
            generate::<Plain>()
        );
        #[derive(schemars::JsonSchema)]
        #[allow(dead_code)]
        struct Ranged {
            #[schemars(range(min = 1, max = 10))]
            a: u32,
        }
        assert!(has_constraints(&generate::<Ranged>()));
        #[derive(schemars::JsonSchema)]
        #[allow(dead_code)]
        struct Short {
            #[schemars(length(max = 3))]
            s: String,
        }
        assert!(has_constraints(&generate::<Short>()));
        // Documented unit variants (`oneOf` of string `const`s) and internally tagged enums
        // are checked by serde; a non-string `const` is not.
        #[derive(schemars::JsonSchema)]
        #[allow(dead_code)]
        enum Colour {
            /// Red.
            Red,
            /// Blue.
            Blue,
        }
        #[derive(schemars::JsonSchema)]
        #[serde(tag = "kind")]
        #[allow(dead_code)]
        enum Shape {
            Circle { r: u32 },
            Square { side: u32 },
        }
        #[derive(schemars::JsonSchema)]
        #[allow(dead_code)]
        struct Painted {
            colour: Colour,
            shape: Shape,
        }
        assert!(
            !has_constraints(&generate::<Painted>()),
            "{}",
            generate::<Painted>()
        );
        assert!(has_constraints(&json!({"type": "integer", "const": 3})));
        // A string `const` on a plain field is the schema's own rule, which serde does not
        // check; nor does it for one nested deeper inside a variant than its tag.
        assert!(has_constraints(
            &json!({"type": "object", "properties": {"s": {"type": "string", "const": "x"}}})
        ));
        assert!(has_constraints(
            &json!({"oneOf": [{"type": "object", "properties": {
                "kind": {"const": "a"},
                "inner": {"type": "object", "properties": {"s": {"type": "string", "const": "x"}}}
            }}]})
        ));
        // The words inside a default or an example, and property names, are data.
        assert!(!has_constraints(
            &json!({"type": "object", "default": {"pattern": "x"}})
        ));
        assert!(!has_constraints(
            &json!({"type": "object", "properties": {"pattern": {"type": "string"}}})
        ));
        assert!(has_constraints(
            &json!({"type": "array", "items": {"type": "string", "minLength": 1}})
        ));
    }

    #[test]
    fn inlines_refs_and_keeps_sibling_keys() {
        let s = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Outer",
            "type": "object",
            "properties": {"inner": {"$ref": "#/$defs/Inner", "description": "the inner one"}},
            "required": ["inner"],
            "$defs": {"Inner": {"title": "Inner", "type": "object", "properties": {"x": {"type": "integer"}}}}
        });
        assert_eq!(
            normalize(s, true).unwrap(),
            json!({
                "type": "object",
                "properties": {"inner": {"type": "object", "properties": {"x": {"type": "integer"}}, "description": "the inner one"}},
                "required": ["inner"]
            })
        );
    }

    #[test]
    fn recursion_is_reported_by_name() {
        let s = json!({
            "type": "object",
            "properties": {"n": {"$ref": "#/$defs/Node"}},
            "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}}
        });
        assert_eq!(
            normalize(s, true),
            Err(SchemaError::Recursive("Node".into()))
        );
    }

    #[test]
    fn non_object_input_roots_are_rejected() {
        assert!(matches!(
            normalize(json!({"type": "string"}), true),
            Err(SchemaError::NotAnObject(_))
        ));
        assert_eq!(
            normalize(json!({}), true).unwrap(),
            json!({"type": "object", "properties": {}})
        );
    }

    #[test]
    fn enums_get_types() {
        let mut v = json!({"enum": ["a", "b", null]});
        assert!(clean(&mut v));
        assert_eq!(v, json!({"enum": ["a", "b"], "type": "string"}));
        let mut v = json!({"enum": [1, 2.5]});
        clean(&mut v);
        assert_eq!(v["type"], "number");
        let mut v = json!({"enum": [1, "x"]});
        clean(&mut v);
        assert!(v.get("type").is_none());
    }
}
