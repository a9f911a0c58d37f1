//! Property tests: URI templates round-trip (expand, then match) for any values, and the
//! schema normaliser accepts exactly the values the original schema accepts.

use std::collections::{BTreeMap, HashMap};

use musehub_mcp::protocol::schema;
use musehub_mcp::protocol::schema::{generate, normalize};
use musehub_mcp::registry::uri_template::UriTemplate;
use musehub_mcp::schemars::JsonSchema;
use musehub_mcp::serde_json::{Map, Value, json};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn simple_variables_round_trip(owner in "\\PC{1,20}", slug in "\\PC{1,20}") {
        prop_assume!(!owner.contains('/') && !slug.contains('/'));
        let t = UriTemplate::parse("musehub://repos/{owner}/{slug}/issues").unwrap();
        let vars: HashMap<String, String> = [("owner".to_string(), owner), ("slug".to_string(), slug)].into();
        prop_assert_eq!(t.matches(&t.expand(&vars)), Some(vars));
    }

    #[test]
    fn values_with_slashes_never_match_simple_variables(a in "[a-z]{1,5}", b in "[a-z]{1,5}") {
        let t = UriTemplate::parse("m://{x}").unwrap();
        let vars: HashMap<String, String> = [("x".to_string(), format!("{a}/{b}"))].into();
        prop_assert_eq!(t.matches(&t.expand(&vars)), None);
    }

    #[test]
    fn reserved_paths_round_trip(segments in proptest::collection::vec("[a-zA-Z0-9 _%é-]{1,8}", 1..5)) {
        prop_assume!(segments.iter().all(|s| s != "." && s != ".."));
        let t = UriTemplate::parse("musehub://repos/a/b/blob/{ref}/{+path}").unwrap();
        let vars: HashMap<String, String> = [("ref".to_string(), "main".to_string()), ("path".to_string(), segments.join("/"))].into();
        prop_assert_eq!(t.matches(&t.expand(&vars)), Some(vars));
    }

    #[test]
    fn matching_never_panics(uri in "\\PC{0,60}") {
        for t in ["m://{a}", "m://{a}/x-{b}", "m://f/{+p}", "m://{a}/blob/{+p}/raw"] {
            let _ = UriTemplate::parse(t).unwrap().matches(&uri);
        }
    }
}

#[musehub_mcp::schema]
#[serde(rename_all = "snake_case")]
enum Colour {
    Red,
    DarkBlue,
}

#[musehub_mcp::schema]
struct Point {
    x: f64,
    y: i32,
}

#[musehub_mcp::schema]
struct Sample {
    name: String,
    count: Option<u32>,
    colour: Colour,
    maybe_colour: Option<Colour>,
    at: Point,
    end: Option<Point>,
    tags: Vec<String>,
    weights: BTreeMap<String, f32>,
    #[serde(rename = "isOn")]
    on: bool,
}

/// Random JSON shaped like a `Sample`: each field usually right and sometimes wrong, required
/// fields usually present. No nulls: the one place the normalised schema is deliberately
/// stricter (it shows `T` for `Option<T>`).
fn value() -> impl Strategy<Value = Value> {
    let wrong = prop_oneof![
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        prop_oneof![Just("blue"), Just("x"), Just("")].prop_map(Value::from),
        Just(json!([1, "a"])),
        Just(json!({"x": "y"})),
    ];
    fn pick(
        right: impl Strategy<Value = Value> + 'static,
        wrong: impl Strategy<Value = Value> + 'static,
    ) -> BoxedStrategy<Value> {
        prop_oneof![4 => right, 1 => wrong].boxed()
    }
    let colour = prop_oneof![Just(json!("red")), Just(json!("dark_blue"))];
    let point = (-1e6f64..1e6, any::<i32>()).prop_map(|(x, y)| json!({"x": x, "y": y}));
    let fields = (
        pick("[a-z]{0,5}".prop_map(Value::from), wrong.clone()),
        pick(any::<u32>().prop_map(Value::from), wrong.clone()),
        pick(colour.clone(), wrong.clone()),
        pick(colour, wrong.clone()),
        pick(point.clone(), wrong.clone()),
        pick(point, wrong.clone()),
        pick(
            proptest::collection::vec("[a-z]{1,3}".prop_map(Value::from), 0..3)
                .prop_map(Value::Array),
            wrong.clone(),
        ),
        pick(
            proptest::collection::btree_map(
                "[a-z]{1,3}",
                (-1e3f32..1e3).prop_map(|f| json!(f)),
                0..3,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
            wrong.clone(),
        ),
        pick(any::<bool>().prop_map(Value::from), wrong),
        proptest::collection::vec(prop_oneof![9 => Just(true), 1 => Just(false)], 9),
    );
    fields.prop_map(
        |(name, count, colour, maybe, at, end, tags, weights, on, keep)| {
            let mut m = Map::new();
            let all = [
                ("name", name),
                ("count", count),
                ("colour", colour),
                ("maybe_colour", maybe),
                ("at", at),
                ("end", end),
                ("tags", tags),
                ("weights", weights),
                ("isOn", on),
            ];
            for ((k, v), keep) in all.into_iter().zip(keep) {
                if keep {
                    m.insert(k.to_string(), v);
                }
            }
            Value::Object(m)
        },
    )
}

fn validators<T: JsonSchema>() -> (jsonschema::Validator, jsonschema::Validator) {
    let raw = generate::<T>();
    let norm = normalize(raw.clone(), true).unwrap();
    (
        jsonschema::validator_for(&raw).unwrap(),
        jsonschema::validator_for(&norm).unwrap(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn normalised_schema_accepts_exactly_what_the_original_accepts(v in value()) {
        let (original, normalised) = validators::<Sample>();
        prop_assert_eq!(original.is_valid(&v), normalised.is_valid(&v), "disagree on {}", v);
    }
}

#[test]
fn the_generator_reaches_both_verdicts() {
    // Guards the property above against a generator that only ever produces one answer.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let (original, _) = validators::<Sample>();
    let mut runner = TestRunner::deterministic();
    let strategy = value();
    let (mut valid, mut invalid) = (0, 0);
    for _ in 0..2000 {
        let v = strategy.new_tree(&mut runner).unwrap().current();
        if original.is_valid(&v) {
            valid += 1;
        } else {
            invalid += 1;
        }
    }
    assert!(
        valid >= 5 && invalid >= 5,
        "valid {valid}, invalid {invalid}"
    );
    assert!(schema::generate::<Point>().is_object());
}
