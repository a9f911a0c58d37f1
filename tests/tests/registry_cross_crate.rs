//! Items declared in two crates (this package's library and `musehub-fixture-crate`) all land
//! in one registry, with exactly the schemas clients see.

use musehub_mcp::__private::OutputShape;
use musehub_mcp::Registry;
use musehub_mcp::serde_json::json;

fn registry() -> &'static Registry {
    musehub_tests::build(Default::default());
    Registry::global().expect("registry")
}

#[test]
fn both_crates_items_are_registered() {
    let r = registry();
    let tools: Vec<&str> = r.tools.iter().map(|t| t.def.name).collect();
    assert_eq!(
        tools,
        [
            "add",
            "always_fails",
            "announce",
            "ask_name",
            "chatty",
            "connect_account",
            "count_down",
            "echo",
            "fixture_transpose",
            "panics",
            "regional",
            "sleepy",
            "squares",
            "two_questions",
            "wait_for_cancel",
            "write_note"
        ]
    );
    let resources: Vec<&str> = r.resources.iter().map(|x| x.def.uri).collect();
    assert_eq!(resources, ["mem://readme"]);
    let templates: Vec<&str> = r.templates.iter().map(|x| x.def.uri).collect();
    assert_eq!(templates, ["fixture://scales/{tonic}", "mem://notes/{id}"]);
    let prompts: Vec<&str> = r.prompts.iter().map(|x| x.def.name).collect();
    assert_eq!(prompts, ["fixture_progression", "summarize"]);
    let fixture = r.tool("fixture_transpose").unwrap();
    assert_eq!(fixture.def.location.crate_name, "musehub-fixture-crate");
    assert_eq!(fixture.def.location.module, "musehub_fixture_crate");
    assert_eq!(
        r.tool("echo").unwrap().def.location.crate_name,
        "musehub-tests"
    );
}

#[test]
fn cross_crate_tool_listing_is_exact() {
    let t = registry().tool("fixture_transpose").unwrap();
    assert_eq!(
        t.listing,
        json!({
            "name": "fixture_transpose",
            "title": "Transpose",
            "description": "Transpose a key by a number of semitones.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "key": {
                        "description": "A score's key signature.",
                        "type": "object",
                        "properties": {
                            "tonic": {"description": "Tonic, e.g. `C#`.", "type": "string"},
                            "mode": {"description": "Major or minor.", "oneOf": [
                                {"description": "Major.", "type": "string", "const": "major"},
                                {"description": "Minor.", "type": "string", "const": "minor"}
                            ]}
                        },
                        "required": ["tonic", "mode"]
                    },
                    "semitones": {"description": "Semitones, may be negative", "type": "integer", "format": "int32"}
                },
                "required": ["key", "semitones"]
            },
            "annotations": {
                "title": "Transpose",
                "readOnlyHint": true,
                "destructiveHint": false,
                "idempotentHint": true,
                "openWorldHint": false
            }
        })
    );
}

#[test]
fn output_schemas_and_wrapping() {
    let r = registry();
    let add = r.tool("add").unwrap();
    assert_eq!(
        add.output_schema,
        Some(json!({
            "description": "A sum.",
            "type": "object",
            "properties": {"sum": {"description": "a + b.", "type": "integer", "format": "int64"}},
            "required": ["sum"]
        }))
    );
    assert_eq!(add.shape, OutputShape::Object);
    let squares = r.tool("squares").unwrap();
    assert_eq!(
        squares.shape,
        OutputShape::Wrapped,
        "a Vec result is wrapped in {{\"result\": ...}}"
    );
    assert_eq!(
        squares.output_schema,
        Some(json!({
            "type": "object",
            "properties": {"result": {"type": "array", "items": {"type": "integer", "minimum": 0}}},
            "required": ["result"]
        }))
    );
    assert_eq!(
        squares.input_schema,
        json!({"type": "object", "properties": {"n": {"description": "How many", "type": "integer", "minimum": 0, "default": 3}}})
    );
}

#[test]
fn write_and_sse_sets_come_from_the_declarations() {
    let r = registry();
    let writes: Vec<&str> = r.write_tools().map(|t| t.def.name).collect();
    assert!(writes.contains(&"write_note"), "{writes:?}");
    assert!(!writes.contains(&"echo"));
    let sse: Vec<&str> = r.sse_tools().map(|t| t.def.name).collect();
    assert!(sse.contains(&"count_down"), "takes Progress: {sse:?}");
    assert!(sse.contains(&"ask_name"), "takes Elicitation");
    assert!(!sse.contains(&"echo"));
    assert!(r.tool("ask_name").unwrap().def.asks_client);
    assert!(!r.tool("count_down").unwrap().def.asks_client);
    let w = registry().tool("write_note").unwrap();
    assert_eq!(
        w.listing["annotations"],
        json!({"readOnlyHint": false, "destructiveHint": false, "idempotentHint": true, "openWorldHint": false})
    );
}

#[test]
fn prompts_and_templates_list_their_arguments() {
    let r = registry();
    assert_eq!(
        r.prompt("summarize").unwrap().listing,
        json!({
            "name": "summarize",
            "title": "Summarise",
            "description": "Summarise a topic.",
            "arguments": [
                {"name": "topic", "description": "The topic", "required": true},
                {"name": "style", "required": false}
            ]
        })
    );
    let (t, vars) = r.match_template("mem://notes/42").unwrap();
    assert_eq!(t.def.uri, "mem://notes/{id}");
    assert_eq!(vars["id"], "42");
    assert_eq!(
        t.listing,
        json!({"uriTemplate": "mem://notes/{id}", "name": "note", "description": "One note by id.", "mimeType": "application/json"})
    );
}
