//! The engine on its own: dispatch of both eras over a small registry built by hand, with a
//! recording session and sink standing in for the server around it.

use std::sync::{Arc, Weak};

use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::handler::ctx::{Caller, ClientLink, Identity, PeerAnswer, Scheme};
use crate::handler::into::{OutputShape, ToolOutput};
use crate::protocol::request::{Incoming, decode};
use crate::protocol::types::{CallToolResult, Content, LogLevel};
use crate::registry::testing::no_output;
use crate::registry::{InputSchema, SourceLocation, ToolDef, ToolStart};

// Derived, not verbatim: a verbatim schema needs the `validation` feature, and these tests
// run without it too (`cargo test -p musehub-mcp`).
fn schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": "object", "properties": {"text": {"type": "string"}}})
}

/// Echoes `text` (or `?`), answering at once.
fn echo(_: crate::Ctx, raw: Option<&serde_json::value::RawValue>, shape: OutputShape) -> ToolStart {
    #[derive(serde::Deserialize)]
    struct A {
        text: Option<String>,
    }
    match crate::handler::generated::parse_arguments::<A>(raw) {
        Ok(a) => ToolStart::Ready(ToolOutput::from_result(
            CallToolResult::success(vec![Content::text(a.text.unwrap_or("?".into()))]),
            shape,
        )),
        Err(e) => ToolStart::Ready(e),
    }
}

const fn def(name: &'static str, write: bool, scopes: &'static [&'static str]) -> ToolDef {
    ToolDef {
        name,
        title: None,
        description: "d",
        read_only: !write,
        destructive: false,
        idempotent: true,
        destructive_explicit: true,
        idempotent_explicit: true,
        open_world: false,
        write,
        sse: false,
        asks_client: false,
        scopes,
        category: None,
        icons: &[],
        input_schema: InputSchema::Derived(schema),
        output_schema: no_output,
        handler: echo,
        location: SourceLocation {
            crate_name: "c",
            module: "m",
            file: "engine/tests.rs",
            line: 1,
            function: "echo",
        },
    }
}

static ECHO: ToolDef = def("echo", false, &[]);
static WRITE: ToolDef = def("write_it", true, &[]);
static SCOPED: ToolDef = def("scoped", false, &["repo:write"]);

/// A session that records what the engine did to it.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<String>>,
}

impl ClientLink for Recorder {
    fn id(&self) -> &str {
        "s1"
    }
    fn log_level(&self) -> Option<LogLevel> {
        None
    }
    fn register_request(
        &self,
        _limit: usize,
    ) -> Option<(RequestId, oneshot::Receiver<PeerAnswer>)> {
        None
    }
    fn forget_request(&self, _id: &RequestId) {}
}

impl Conversation for Recorder {
    fn subscribe(&self, uri: &str) {
        self.events.lock().push(format!("subscribe {uri}"));
    }
    fn unsubscribe(&self, uri: &str) {
        self.events.lock().push(format!("unsubscribe {uri}"));
    }
    fn set_log_level(&self, level: LogLevel) {
        self.events.lock().push(format!("level {level:?}"));
    }
    fn mark_initialized(&self) {
        self.events.lock().push("initialized".into());
    }
    fn cancel_request(&self, id: &RequestId) -> bool {
        self.events.lock().push(format!("cancel {id}"));
        false
    }
}

/// The hub: records cancellations passed on to other instances.
#[derive(Default)]
struct Elsewhere {
    cancelled: Mutex<Vec<String>>,
}

impl Hub for Elsewhere {
    fn share_subscription(
        &self,
        _session: &str,
        _uri: &str,
        _on: bool,
    ) -> BoxFuture<'static, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
    fn cancel_elsewhere(&self, session: &str, id: &RequestId) {
        self.cancelled.lock().push(format!("{session}/{id}"));
    }
}

impl ChangeSink for Elsewhere {
    fn list_changed(&self, _kind: &str) {}
    fn resource_updated(&self, _uri: &str) {}
}

fn engine(hub: &Arc<Elsewhere>) -> Arc<Engine> {
    let registry: &'static Registry = Box::leak(Box::new(
        Registry::build(vec![&ECHO, &WRITE, &SCOPED], vec![], vec![]).expect("registry"),
    ));
    let changes: Weak<dyn ChangeSink> = Arc::downgrade(&(hub.clone() as Arc<dyn ChangeSink>));
    let hub: Weak<dyn Hub> = Arc::downgrade(&(hub.clone() as Arc<dyn Hub>));
    Arc::new(Engine::new(
        ServerInfo {
            name: "t".into(),
            version: "1".into(),
            title: None,
            instructions: None,
        },
        ServerConfig::default(),
        registry,
        StateMap::default(),
        changes,
        hub,
    ))
}

fn handshake_env(caller: Caller, session: Option<Arc<Recorder>>) -> CallEnv {
    CallEnv::handshake(
        session.map(|s| {
            (
                s as Arc<dyn Conversation>,
                ProtocolVersion::V2025_11_25,
                Arc::new(json!({})),
            )
        }),
        caller,
        None,
        CancellationToken::new(),
    )
}

fn modern_env() -> CallEnv {
    let body = r#"{"jsonrpc":"2.0","id":0,"method":"x","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;
    let Ok(Incoming::Request(r)) = decode(body, 256) else {
        panic!("request")
    };
    let envelope = crate::protocol::modern::Envelope::read(&r.meta).expect("envelope");
    CallEnv::modern(
        ProtocolVersion::V2026_07_28,
        envelope,
        Caller::anonymous(),
        None,
        CancellationToken::new(),
    )
}

async fn run(engine: &Arc<Engine>, body: &str, env: CallEnv) -> Value {
    let Ok(Incoming::Request(req)) = decode(body, 256) else {
        panic!("a request: {body}")
    };
    let reply = engine.start(engine.prepare(req), env).finish().await;
    serde_json::from_slice(&reply.bytes).expect("JSON reply")
}

#[tokio::test]
async fn both_eras_list_and_call_the_same_tools() {
    let hub = Arc::new(Elsewhere::default());
    let e = engine(&hub);
    let list = run(
        &e,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
        handshake_env(Caller::anonymous(), None),
    )
    .await;
    let names: Vec<&str> = list["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["echo", "scoped", "write_it"]);
    assert!(list["result"].get("resultType").is_none(), "handshake era");
    let call = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}"#;
    let old = run(&e, call, handshake_env(Caller::anonymous(), None)).await;
    assert_eq!(
        old["result"],
        json!({"content": [{"type": "text", "text": "hi"}]})
    );
    let new = run(&e, call, modern_env()).await;
    assert_eq!(new["result"]["content"], old["result"]["content"]);
    assert_eq!(new["result"]["resultType"], "complete");
    assert_eq!(
        new["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "t"
    );
}

#[tokio::test]
async fn era_rules_for_methods() {
    let hub = Arc::new(Elsewhere::default());
    let e = engine(&hub);
    // Removed in 2026-07-28; still there in the handshake era.
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    assert_eq!(run(&e, ping, modern_env()).await["error"]["code"], -32601);
    assert_eq!(
        run(&e, ping, handshake_env(Caller::anonymous(), None)).await["result"],
        json!({})
    );
    // Only in 2026-07-28.
    let discover = r#"{"jsonrpc":"2.0","id":1,"method":"server/discover"}"#;
    let d = run(&e, discover, modern_env()).await;
    assert_eq!(d["result"]["supportedVersions"][0], "2026-07-28");
    assert_eq!(
        run(&e, discover, handshake_env(Caller::anonymous(), None)).await["error"]["code"],
        -32601
    );
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{}}}"#;
    assert_eq!(
        run(&e, init, handshake_env(Caller::anonymous(), None)).await["error"]["code"],
        -32600,
        "a session is initialised once"
    );
}

#[tokio::test]
async fn bad_calls_get_the_right_errors() {
    let hub = Arc::new(Elsewhere::default());
    let e = engine(&hub);
    let env = || handshake_env(Caller::anonymous(), None);
    let unknown = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nope"}}"#;
    let r = run(&e, unknown, env()).await;
    assert_eq!(r["error"]["code"], -32602);
    assert_eq!(r["error"]["message"], "Unknown tool: nope");
    let array = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":[1]}}"#;
    assert_eq!(run(&e, array, env()).await["error"]["code"], -32602);
    let wrong = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":5}}}"#;
    let r = run(&e, wrong, env()).await;
    assert_eq!(r["result"]["isError"], true);
    assert_eq!(
        r["result"]["structuredContent"]["error"]["code"],
        "invalid_argument"
    );
}

#[tokio::test]
async fn writes_and_scopes_are_checked_when_no_transport_did() {
    let hub = Arc::new(Elsewhere::default());
    let e = engine(&hub);
    let call = |tool: &str| {
        format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"{tool}"}}}}"#)
    };
    let anon = run(
        &e,
        &call("write_it"),
        handshake_env(Caller::anonymous(), None),
    )
    .await;
    assert_eq!(
        anon["result"]["structuredContent"]["error"]["code"],
        "unauthenticated"
    );
    let signed = Caller::authenticated(Identity::new("ada", Scheme::MSign));
    let ok = run(&e, &call("write_it"), handshake_env(signed.clone(), None)).await;
    assert_eq!(ok["result"]["content"][0]["text"], "?");
    // An unscoped credential (MSign) has every scope; a token only those it was granted.
    assert!(
        run(&e, &call("scoped"), handshake_env(signed, None)).await["result"]["isError"].is_null()
    );
    let token = Caller::authenticated(
        Identity::new("ada", Scheme::Bearer).with_scopes(vec!["repo:read".into()]),
    );
    let r = run(&e, &call("scoped"), handshake_env(token, None)).await;
    assert_eq!(
        r["result"]["structuredContent"]["error"]["code"],
        "forbidden"
    );
    assert_eq!(
        r["result"]["structuredContent"]["error"]["data"]["scope"],
        "repo:write"
    );
}

#[tokio::test]
async fn session_methods_and_notifications_reach_the_session() {
    let hub = Arc::new(Elsewhere::default());
    let e = engine(&hub);
    let session = Arc::new(Recorder::default());
    let env = || handshake_env(Caller::anonymous(), Some(session.clone()));
    run(
        &e,
        r#"{"jsonrpc":"2.0","id":1,"method":"resources/subscribe","params":{"uri":"a://1"}}"#,
        env(),
    )
    .await;
    run(
        &e,
        r#"{"jsonrpc":"2.0","id":2,"method":"logging/setLevel","params":{"level":"error"}}"#,
        env(),
    )
    .await;
    let no_session = run(
        &e,
        r#"{"jsonrpc":"2.0","id":3,"method":"resources/subscribe","params":{"uri":"a://1"}}"#,
        handshake_env(Caller::anonymous(), None),
    )
    .await;
    assert_eq!(no_session["error"]["code"], -32600);
    let conversation: Arc<dyn Conversation> = session.clone();
    for body in [
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"r9"}}"#,
    ] {
        let Ok(Incoming::Notification(n)) = decode(body, 256) else {
            panic!("notification")
        };
        e.notification(&n, Some(&conversation));
    }
    assert_eq!(
        *session.events.lock(),
        vec![
            "subscribe a://1",
            "level Error",
            "initialized",
            "cancel \"r9\""
        ]
    );
    // Not running here: passed on to the other instances.
    assert_eq!(*hub.cancelled.lock(), vec!["s1/\"r9\""]);
}
