//! Reads a normalised JSON Schema as a table of parameters (name, type, required, default,
//! constraints, description) and as an example argument object. Shared by the page, the
//! Markdown reference and the lint.

use serde_json::{Map, Value, json};

/// Nesting deeper than this is summarised by its type alone.
const MAX_DEPTH: usize = 6;
/// A schema with more rows than this is cut (the raw schema is still shown).
const MAX_ROWS: usize = 400;

/// One row of a parameter table.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ParamRow {
    /// Dotted path: `key.tonic`, `notes[].pitch`.
    pub path: String,
    /// The last segment of the path.
    pub name: String,
    /// The path up to the last segment (`key.` for `key.tonic`; empty at the top level).
    pub parent: String,
    /// Nesting level (0 for top-level arguments).
    pub depth: usize,
    /// Readable type: `string`, `array<integer>`, `object`, `"major" | "minor"`.
    pub ty: String,
    /// Listed in its parent's `required`.
    pub required: bool,
    /// The default, as compact JSON.
    pub default: Option<String>,
    /// Allowed values, as compact JSON, for enums.
    pub values: Vec<String>,
    /// Other constraints: `≥ 0`, `≤ 100 chars`, `pattern ^a+$`.
    pub constraints: Vec<String>,
    /// The description (or title) of the property.
    pub description: Option<String>,
}

/// The rows of an object schema's properties, nested objects and array items included.
pub fn rows(schema: &Value) -> Vec<ParamRow> {
    let mut out = Vec::new();
    object_rows(schema, schema, "", 0, &mut out);
    out
}

/// Follows local `$ref`s (`#/...` JSON pointers into the root, as verbatim schemas may
/// carry), a few hops at most.
fn resolve<'a>(root: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..8 {
        match schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|pointer| root.pointer(pointer))
        {
            Some(target) => schema = target,
            None => break,
        }
    }
    schema
}

fn object_rows(root: &Value, schema: &Value, prefix: &str, depth: usize, out: &mut Vec<ParamRow>) {
    let schema = resolve(root, schema);
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (name, prop) in props {
        if out.len() >= MAX_ROWS {
            return;
        }
        let path = format!("{prefix}{name}");
        let prop = resolve(root, prop);
        out.push(row(
            root,
            name,
            &path,
            depth,
            prop,
            required.contains(&name.as_str()),
        ));
        nested_rows(root, prop, &path, depth, out);
    }
}

/// Rows for what lives inside a property: object fields, array items' fields, variants.
fn nested_rows(root: &Value, prop: &Value, path: &str, depth: usize, out: &mut Vec<ParamRow>) {
    if depth + 1 >= MAX_DEPTH {
        return;
    }
    if prop.get("properties").is_some() {
        object_rows(root, prop, &format!("{path}."), depth + 1, out);
    } else if let Some(items) = prop
        .get("items")
        .filter(|i| i.is_object())
        .map(|i| resolve(root, i))
    {
        if items.get("properties").is_some() {
            object_rows(root, items, &format!("{path}[]."), depth + 1, out);
        } else {
            variant_rows(root, items, &format!("{path}[]"), depth, out);
        }
    } else if let Some(extra) = prop
        .get("additionalProperties")
        .map(|a| resolve(root, a))
        .filter(|a| a.get("properties").is_some())
    {
        object_rows(root, extra, &format!("{path}{{key}}."), depth + 1, out);
    } else {
        variant_rows(root, prop, path, depth, out);
    }
}

/// `oneOf`/`anyOf` variants that are objects: one labelled group of rows per variant.
fn variant_rows(root: &Value, prop: &Value, path: &str, depth: usize, out: &mut Vec<ParamRow>) {
    let Some(variants) = variants(prop) else {
        return;
    };
    for (i, v) in variants.iter().enumerate() {
        let v = resolve(root, v);
        if v.get("properties").is_none() {
            continue;
        }
        let label = variant_label(v).unwrap_or_else(|| format!("variant {}", i + 1));
        object_rows(root, v, &format!("{path}⟨{label}⟩."), depth + 1, out);
    }
}

fn variants(prop: &Value) -> Option<&Vec<Value>> {
    prop.get("oneOf")
        .or_else(|| prop.get("anyOf"))
        .and_then(Value::as_array)
}

/// A variant's name: its title, or the value of a `const` discriminator property.
fn variant_label(v: &Value) -> Option<String> {
    if let Some(t) = v.get("title").and_then(Value::as_str) {
        return Some(t.to_string());
    }
    v.get("properties")?
        .as_object()?
        .iter()
        .find_map(|(k, p)| p.get("const").map(|c| format!("{k}={}", compact(c))))
}

/// The values of a documented enum: `oneOf`/`anyOf` whose variants are all `const`.
fn const_variants(prop: &Value) -> Option<Vec<&Value>> {
    let vs = variants(prop)?;
    vs.iter().map(|v| v.get("const")).collect()
}

/// The JSON type of a value, as a schema type name.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn row(
    root: &Value,
    name: &str,
    path: &str,
    depth: usize,
    prop: &Value,
    required: bool,
) -> ParamRow {
    let mut ty = type_of(root, prop, 0);
    let values = match (
        prop.get("enum").and_then(Value::as_array),
        const_variants(prop),
    ) {
        (Some(e), _) => e.iter().map(compact).collect(),
        (None, Some(consts)) if !consts.is_empty() => {
            let mut types: Vec<&str> = consts.iter().map(|c| json_type(c)).collect();
            types.dedup();
            ty = types.join(" | ");
            consts.into_iter().map(compact).collect()
        }
        _ => Vec::new(),
    };
    ParamRow {
        parent: path.strip_suffix(name).unwrap_or("").to_string(),
        path: path.to_string(),
        name: name.to_string(),
        depth,
        ty,
        required,
        default: prop.get("default").map(compact),
        values,
        constraints: constraints(prop),
        description: description(prop),
    }
}

/// The description of a property schema, or of its single variant/items, or its title.
pub fn description(prop: &Value) -> Option<String> {
    prop.get("description")
        .and_then(Value::as_str)
        .or_else(|| prop.get("title").and_then(Value::as_str))
        .filter(|d| !d.trim().is_empty())
        .map(str::to_string)
}

/// A readable type for a schema, following local `$ref`s into `root`.
fn type_of(root: &Value, schema: &Value, depth: usize) -> String {
    if depth > MAX_DEPTH {
        return "…".into();
    }
    let schema = resolve(root, schema);
    if let Some(c) = schema.get("const") {
        return compact(c);
    }
    if let Some(vs) = variants(schema) {
        let mut parts: Vec<String> = vs.iter().map(|v| type_of(root, v, depth + 1)).collect();
        parts.dedup();
        return parts.join(" | ");
    }
    let base = match schema.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ if schema.get("properties").is_some() => "object".into(),
        _ if schema.get("enum").is_some() => "enum".into(),
        _ => "any".into(),
    };
    match base.as_str() {
        "array" => match schema.get("items") {
            Some(items) if items.is_object() => {
                format!("array<{}>", type_of(root, items, depth + 1))
            }
            _ => "array".into(),
        },
        "object" => match schema.get("additionalProperties") {
            Some(extra) if extra.is_object() && schema.get("properties").is_none() => {
                format!("map<string, {}>", type_of(root, extra, depth + 1))
            }
            _ => "object".into(),
        },
        _ => match schema.get("format").and_then(Value::as_str) {
            Some(f) if base == "string" => format!("string ({f})"),
            _ => base,
        },
    }
}

/// Readable constraints: bounds, lengths, patterns, item counts, header mirroring.
fn constraints(p: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let num = |k: &str| p.get(k).filter(|v| v.is_number()).map(compact);
    if let Some(v) = num("minimum") {
        out.push(format!("≥ {v}"));
    }
    if let Some(v) = num("exclusiveMinimum") {
        out.push(format!("> {v}"));
    }
    if let Some(v) = num("maximum") {
        out.push(format!("≤ {v}"));
    }
    if let Some(v) = num("exclusiveMaximum") {
        out.push(format!("< {v}"));
    }
    if let Some(v) = num("multipleOf") {
        out.push(format!("multiple of {v}"));
    }
    match (num("minLength"), num("maxLength")) {
        (Some(a), Some(b)) => out.push(format!("{a}–{b} chars")),
        (Some(a), None) => out.push(format!("≥ {a} chars")),
        (None, Some(b)) => out.push(format!("≤ {b} chars")),
        (None, None) => {}
    }
    match (num("minItems"), num("maxItems")) {
        (Some(a), Some(b)) => out.push(format!("{a}–{b} items")),
        (Some(a), None) => out.push(format!("≥ {a} items")),
        (None, Some(b)) => out.push(format!("≤ {b} items")),
        (None, None) => {}
    }
    if p.get("uniqueItems") == Some(&Value::Bool(true)) {
        out.push("unique items".into());
    }
    if let Some(v) = num("minProperties") {
        out.push(format!("≥ {v} keys"));
    }
    if let Some(v) = num("maxProperties") {
        out.push(format!("≤ {v} keys"));
    }
    if let Some(pat) = p.get("pattern").and_then(Value::as_str) {
        out.push(format!("pattern {pat}"));
    }
    if let Some(h) = p.get("x-mcp-header").and_then(Value::as_str) {
        out.push(format!("header Mcp-Param-{h}"));
    }
    if p.get("deprecated") == Some(&Value::Bool(true)) {
        out.push("deprecated".into());
    }
    out
}

/// Compact JSON for a value.
pub fn compact(v: &Value) -> String {
    v.to_string()
}

/// An argument object with every required property filled with a plausible value (its
/// default, first example, const, first enum value, or a placeholder of its type).
pub fn example(schema: &Value) -> Value {
    example_at(schema, schema, 0, None)
}

fn example_at(root: &Value, schema: &Value, depth: usize, name: Option<&str>) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    let schema = resolve(root, schema);
    if let Some(v) = schema.get("default") {
        return v.clone();
    }
    if let Some(v) = schema
        .get("examples")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return v.clone();
    }
    if let Some(v) = schema.get("const") {
        return v.clone();
    }
    if let Some(v) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return v.clone();
    }
    if let Some(first) = variants(schema).and_then(|v| v.first()) {
        return example_at(root, first, depth + 1, name);
    }
    let ty = match schema.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => "string",
    };
    match ty {
        "object" => {
            let mut m = Map::new();
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (k, p) in props {
                    if required.contains(&k.as_str()) {
                        m.insert(k.clone(), example_at(root, p, depth + 1, Some(k)));
                    }
                }
            }
            Value::Object(m)
        }
        "array" => {
            let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            match schema.get("items") {
                Some(items) if min > 0 => json!([example_at(root, items, depth + 1, name)]),
                _ => json!([]),
            }
        }
        "integer" | "number" => schema
            .get("minimum")
            .or_else(|| schema.get("exclusiveMinimum"))
            .cloned()
            .unwrap_or(json!(0)),
        "boolean" => json!(false),
        "null" => Value::Null,
        _ => match schema.get("format").and_then(Value::as_str) {
            Some("uri") | Some("url") => json!("https://example.com"),
            Some("date-time") => json!("2026-01-01T00:00:00Z"),
            Some("date") => json!("2026-01-01"),
            Some("email") => json!("someone@example.com"),
            Some("uuid") => json!("00000000-0000-0000-0000-000000000000"),
            _ => json!(format!("<{}>", name.unwrap_or("value"))),
        },
    }
}

/// Every property path whose schema has no description, nested objects included.
pub fn undocumented(schema: &Value) -> Vec<String> {
    rows(schema)
        .into_iter()
        .filter(|r| r.description.is_none())
        .map(|r| r.path)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_cover_nested_objects_enums_and_constraints() {
        let schema = json!({
            "type": "object",
            "properties": {
                "key": {"type": "object", "description": "The key", "properties": {
                    "mode": {"type": "string", "enum": ["major", "minor"]},
                    "tonic": {"type": "string", "description": "Tonic"}
                }, "required": ["tonic"]},
                "n": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3},
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 4}
            },
            "required": ["key"]
        });
        let r = rows(&schema);
        let paths: Vec<&str> = r.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["key", "key.mode", "key.tonic", "n", "tags"]);
        assert!(r[0].required && !r[1].required && r[2].required);
        assert_eq!(r[1].values, ["\"major\"", "\"minor\""]);
        assert_eq!(r[3].constraints, ["≥ 1", "≤ 10"]);
        assert_eq!(r[3].default.as_deref(), Some("3"));
        assert_eq!(r[4].ty, "array<string>");
        assert_eq!(r[4].constraints, ["≤ 4 items"]);
        assert_eq!(undocumented(&schema), ["key.mode", "n", "tags"]);
        assert_eq!(example(&schema), json!({"key": {"tonic": "<tonic>"}}));
    }

    #[test]
    fn local_refs_are_followed() {
        let schema = json!({"type": "object",
            "$defs": {"address": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
            "properties": {"home": {"$ref": "#/$defs/address"}, "loop": {"$ref": "#/properties/loop"}},
            "required": ["home"]});
        let r = rows(&schema);
        let paths: Vec<(&str, &str)> = r.iter().map(|r| (r.path.as_str(), r.ty.as_str())).collect();
        assert_eq!(
            paths,
            [("home", "object"), ("home.city", "string"), ("loop", "any")]
        );
        assert_eq!(example(&schema), json!({"home": {"city": "<city>"}}));
    }

    #[test]
    fn variants_are_labelled_by_discriminator() {
        let schema = json!({"type": "object", "properties": {"op": {"oneOf": [
            {"type": "object", "properties": {"kind": {"const": "add"}, "x": {"type": "integer"}}},
            {"type": "object", "properties": {"kind": {"const": "clear"}}}
        ]}}});
        let paths: Vec<String> = rows(&schema).into_iter().map(|r| r.path).collect();
        assert_eq!(
            paths,
            [
                "op",
                "op⟨kind=\"add\"⟩.kind",
                "op⟨kind=\"add\"⟩.x",
                "op⟨kind=\"clear\"⟩.kind"
            ]
        );
    }
}
