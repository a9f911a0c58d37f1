//! The HTTP remote behind the URLs `muse_remote` hands out: refs, object upload in signed
//! `Content-Range` pieces, streamed download, push and pull with `muse_push`/`muse_pull`'s
//! semantics, MSign auth (anonymous reads of public repositories, signed writes), and JSON
//! (JSON-RPC-shaped) errors everywhere, `/mcp`'s 413 included.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::commits::Manifest;
use musehub_mcp::auth::MSignSigner;
use musehub_mcp::serde_json::{Value, json};
use musehub_mcp::{Server, ServerConfig};
use musehub_server::{AuthSettings, Db, HubSettings};
use reqwest::{Client, Method, StatusCode};

const PIECE: usize = 1024;
const MAX_OBJECT: u64 = 16 * 1024;

struct Hub {
    base: String,
    db: Db,
    alice: MSignSigner,
    bob: MSignSigner,
    http: Client,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

async fn start() -> Hub {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let db = common::test_db_with(HubSettings {
        public_url: base.clone(),
        upload_chunk_bytes: PIECE,
        max_object_bytes: MAX_OBJECT,
        ..HubSettings::default()
    })
    .await;
    musehub_server::seed::seed_demo(&db).await.unwrap();
    let config = {
        let mut c = ServerConfig::default();
        c.max_body_bytes = 64 * 1024;
        c
    };
    let server: Arc<Server> =
        musehub_server::build_server(db.clone(), config, &AuthSettings::default()).unwrap();
    let app = musehub_server::http::app(server.clone(), db.clone());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = musehub_mcp::transport::http::serve_router(server, app, listener, async {
            let _ = rx.await;
        })
        .await;
    });
    let signer = |h: &str| {
        let s = MSignSigner::new(h, MSignSigner::generate_key());
        (h.to_string(), s)
    };
    let (_, alice) = signer("alice");
    let (_, bob) = signer("bob");
    for (h, s) in [("alice", &alice), ("bob", &bob)] {
        musehub_server::keys::register(&db, h, &s.public_key(), None, "test")
            .await
            .unwrap();
    }
    Hub {
        base,
        db,
        alice,
        bob,
        http: Client::new(),
        _shutdown: tx,
    }
}

impl Hub {
    /// One request to `path`, signed by `signer` when given.
    async fn send(
        &self,
        method: Method,
        path: &str,
        signer: Option<&MSignSigner>,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let mut rb = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        for (k, v) in headers {
            rb = rb.header(*k, v);
        }
        if let Some(s) = signer {
            rb = rb.header(
                "authorization",
                s.sign_parts(method.as_str(), path, &body, None),
            );
        }
        let r = rb.body(body).send().await.expect("request");
        let status = r.status();
        let headers = r.headers().clone();
        (status, headers, r.bytes().await.unwrap().to_vec())
    }

    async fn json(
        &self,
        method: Method,
        path: &str,
        signer: Option<&MSignSigner>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let headers = [("content-type", "application/json".to_string())];
        let (status, h, body) = self.send(method, path, signer, &headers, bytes).await;
        assert_eq!(
            h.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/json"),
            "{path}: every answer is JSON ({status})"
        );
        (status, musehub_mcp::serde_json::from_slice(&body).unwrap())
    }

    /// Uploads `bytes` as object `id` in pieces of `PIECE` bytes; the statuses.
    async fn upload(
        &self,
        repo: &str,
        signer: &MSignSigner,
        id: &str,
        bytes: &[u8],
    ) -> Vec<StatusCode> {
        let mut statuses = Vec::new();
        let total = bytes.len();
        let mut start = 0;
        while start < total {
            let end = (start + PIECE).min(total);
            let (status, _, body) = self
                .send(
                    Method::PUT,
                    &format!("/{repo}/objects/{id}"),
                    Some(signer),
                    &[(
                        "content-range",
                        format!("bytes {start}-{}/{total}", end - 1),
                    )],
                    bytes[start..end].to_vec(),
                )
                .await;
            statuses.push(status);
            if !status.is_success() {
                panic!(
                    "piece at {start}: {status} {}",
                    String::from_utf8_lossy(&body)
                );
            }
            start = end;
        }
        statuses
    }
}

fn error_code(v: &Value) -> &str {
    assert_eq!(v["jsonrpc"], "2.0", "{v}");
    assert!(v["error"]["code"].is_i64(), "{v}");
    assert!(v["error"]["message"].is_string(), "{v}");
    v["error"]["data"]["code"].as_str().unwrap_or("")
}

async fn main_head(h: &Hub, repo: &str, signer: Option<&MSignSigner>) -> String {
    let (status, refs) = h
        .json(Method::GET, &format!("/{repo}/info/refs"), signer, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{refs}");
    refs["branches"]["main"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_large_object_goes_up_in_pieces_and_comes_back_whole() {
    let h = start().await;
    let repo = "alice/jazz-session";
    let (status, refs) = h
        .json(Method::GET, &format!("/{repo}/info/refs"), None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(refs["default_branch"], "main");
    assert_eq!(refs["limits"]["upload_chunk_bytes"], PIECE);
    assert_eq!(refs["limits"]["max_object_bytes"], MAX_OBJECT);
    let head = refs["branches"]["main"].as_str().unwrap().to_string();
    // The remote URL itself answers the same; an unknown path is a JSON 404.
    let (status, same) = h.json(Method::GET, &format!("/{repo}"), None, None).await;
    assert_eq!(
        (status, same["branches"].clone()),
        (StatusCode::OK, refs["branches"].clone())
    );
    let (status, nothing) = h.json(Method::GET, "/no/such/place/here", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&nothing), "not_found");

    // 10 KiB of audio-ish bytes, in 1 KiB signed pieces.
    let bytes: Vec<u8> = (0..10 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    let id = muse_core::object_id(&bytes);
    let (status, m) = h
        .json(
            Method::POST,
            &format!("/{repo}/objects/missing"),
            Some(&h.alice),
            Some(json!({"object_ids": [id]})),
        )
        .await;
    assert_eq!(
        (status, m["missing"].clone()),
        (StatusCode::OK, json!([id]))
    );
    let statuses = h.upload(repo, &h.alice, &id, &bytes).await;
    assert_eq!(statuses.len(), 10);
    assert!(statuses[..9].iter().all(|s| *s == StatusCode::ACCEPTED));
    assert_eq!(statuses[9], StatusCode::CREATED);
    // Staged for alice: not missing for her, still missing for an anonymous reader.
    let (_, m) = h
        .json(
            Method::POST,
            &format!("/{repo}/objects/missing"),
            Some(&h.alice),
            Some(json!({"object_ids": [id]})),
        )
        .await;
    assert_eq!(m["missing"], json!([]));
    // Not downloadable until a push names it.
    let (status, _, _) = h
        .send(
            Method::GET,
            &format!("/{repo}/objects/{id}"),
            None,
            &[],
            vec![],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The push names it; same checks as muse_push.
    let manifest = Manifest::from([("stems/take.wav".to_string(), id.clone())]);
    let snapshot = muse_core::snapshot_id(&manifest);
    let ts = common::commits::timestamp();
    let parents = vec![head.clone()];
    let commit = muse_core::commit_id(&muse_core::CommitFields {
        parents: &parents,
        snapshot_id: Some(&snapshot),
        author: "alice",
        timestamp: &ts,
        message: "Add the take",
    })
    .unwrap();
    let push = json!({
        "branch": "main", "head_commit_id": commit,
        "commits": [{"commit_id": commit, "parent_ids": parents, "author": "alice", "timestamp": ts,
                     "message": "Add the take", "snapshot_id": snapshot}],
        "snapshots": [{"snapshot_id": snapshot, "manifest": manifest}],
    });
    let (status, unsigned) = h
        .json(
            Method::POST,
            &format!("/{repo}/push"),
            None,
            Some(push.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&unsigned), "unauthenticated");
    let (status, p) = h
        .json(
            Method::POST,
            &format!("/{repo}/push"),
            Some(&h.alice),
            Some(push.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["head_commit_id"], commit);
    assert_eq!(p["objects_stored"], 1);
    assert_eq!(p["bytes_stored"], bytes.len());
    assert_eq!(main_head(&h, repo, None).await, commit);
    // The same push again is a no-op fast-forward; an older head is refused.
    let (status, again) = h
        .json(
            Method::POST,
            &format!("/{repo}/push"),
            Some(&h.alice),
            Some(push),
        )
        .await;
    assert_eq!(
        (status, again["commits_stored"].clone()),
        (StatusCode::OK, json!(0))
    );

    // Pull: the delta names the object by URL; GET streams it back byte for byte.
    let (status, d) = h
        .json(
            Method::POST,
            &format!("/{repo}/pull"),
            None,
            Some(json!({"branch": "main", "since_commit_id": head})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert_eq!(d["commits"][0]["commit_id"], commit);
    let url = d["objects"][0]["download_url"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(url, format!("{}/{repo}/objects/{id}", h.base));
    assert!(d["objects"][0].get("content_b64").is_none());
    let r = h.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "audio/wav");
    assert_eq!(
        r.headers()["content-length"],
        bytes.len().to_string().as_str()
    );
    assert_eq!(r.bytes().await.unwrap().to_vec(), bytes);
}

#[tokio::test]
async fn uploads_are_checked_piece_by_piece() {
    let h = start().await;
    let repo = "alice/jazz-session";
    let bytes = vec![1u8; 3 * PIECE];
    let id = muse_core::object_id(&bytes);
    let path = format!("/{repo}/objects/{id}");
    let range =
        |s: usize, e: usize, t: usize| vec![("content-range", format!("bytes {s}-{e}/{t}"))];

    // Unsigned, or by someone who may not push: refused, JSON.
    let (status, headers, body) = h
        .send(
            Method::PUT,
            &path,
            None,
            &range(0, PIECE - 1, 3 * PIECE),
            bytes[..PIECE].to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Both schemes the hub accepts: an agent token may push too.
    let challenges: Vec<&str> = headers
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert!(
        challenges.contains(&"MSign realm=\"musehub\""),
        "{challenges:?}"
    );
    assert!(
        challenges
            .iter()
            .any(|c| c.starts_with("Bearer resource_metadata=")),
        "{challenges:?}"
    );
    let v: Value = musehub_mcp::serde_json::from_slice(&body).unwrap();
    assert_eq!(error_code(&v), "unauthenticated");
    let (status, _, _) = h
        .send(
            Method::PUT,
            &path,
            Some(&h.bob),
            &range(0, PIECE - 1, 3 * PIECE),
            bytes[..PIECE].to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A piece out of order: 409 with the offset to resume from.
    let (status, _, _) = h
        .send(
            Method::PUT,
            &path,
            Some(&h.alice),
            &range(0, PIECE - 1, 3 * PIECE),
            bytes[..PIECE].to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, _, body) = h
        .send(
            Method::PUT,
            &path,
            Some(&h.alice),
            &range(2 * PIECE, 3 * PIECE - 1, 3 * PIECE),
            bytes[2 * PIECE..].to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let v: Value = musehub_mcp::serde_json::from_slice(&body).unwrap();
    assert_eq!(error_code(&v), "upload_offset_mismatch");
    assert_eq!(v["error"]["data"]["offset"], PIECE);

    // Bytes that are not the object named: refused at the end, nothing staged or stored.
    let wrong = vec![2u8; 3 * PIECE];
    let (status, _, _) = h
        .send(
            Method::PUT,
            &path,
            Some(&h.alice),
            &range(PIECE, 2 * PIECE - 1, 3 * PIECE),
            wrong[PIECE..2 * PIECE].to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, _, body) = h
        .send(
            Method::PUT,
            &path,
            Some(&h.alice),
            &range(2 * PIECE, 3 * PIECE - 1, 3 * PIECE),
            wrong[2 * PIECE..].to_vec(),
        )
        .await;
    let v: Value = musehub_mcp::serde_json::from_slice(&body).unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(error_code(&v), "object_id_mismatch");
    assert!(!h.db.blobs().contains(&id).await.unwrap());
    let (_, m) = h
        .json(
            Method::POST,
            &format!("/{repo}/objects/missing"),
            Some(&h.alice),
            Some(json!({"object_ids": [id]})),
        )
        .await;
    assert_eq!(m["missing"], json!([id]));

    // Too large: the whole object, or one piece; 413 with a JSON body, before anything is read.
    let (status, _, body) = h
        .send(
            Method::PUT,
            &path,
            Some(&h.alice),
            &range(0, PIECE - 1, MAX_OBJECT as usize + 1),
            bytes[..PIECE].to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let v: Value = musehub_mcp::serde_json::from_slice(&body).unwrap();
    assert_eq!(error_code(&v), "too_large");
    assert_eq!(v["error"]["data"]["limit"], MAX_OBJECT);
    let (status, _, body) = h
        .send(
            Method::PUT,
            &path,
            Some(&h.alice),
            &[],
            vec![0u8; PIECE + 1],
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let v: Value = musehub_mcp::serde_json::from_slice(&body).unwrap();
    assert_eq!(error_code(&v), "too_large");
    // An id that is no id.
    let (status, _, _) = h
        .send(
            Method::PUT,
            &format!("/{repo}/objects/obj-x"),
            Some(&h.alice),
            &[],
            b"x".to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Starting over from byte 0 works, and completes.
    let statuses = h.upload(repo, &h.alice, &id, &bytes).await;
    assert_eq!(statuses.last(), Some(&StatusCode::CREATED));
    assert!(h.db.blobs().contains(&id).await.unwrap());
}

#[tokio::test]
async fn pushes_name_only_objects_the_pusher_uploaded_or_the_repository_has() {
    let h = start().await;
    // bob collaborates on alice's private sketches; alice uploads a file there, bob's push
    // may not claim it (he never proved he has the bytes).
    let repo = "alice/private-sketches";
    let (status, _) = h
        .json(Method::GET, &format!("/{repo}/info/refs"), None, None)
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "private: not found anonymously"
    );
    let head = main_head(&h, repo, Some(&h.bob)).await;
    let bytes = b"alice's secret take".to_vec();
    let id = muse_core::object_id(&bytes);
    h.upload(repo, &h.alice, &id, &bytes).await;
    let c = {
        let manifest = Manifest::from([("take.wav".to_string(), id.clone())]);
        let snapshot = muse_core::snapshot_id(&manifest);
        let ts = common::commits::timestamp();
        let parents = vec![head.clone()];
        let cid = muse_core::commit_id(&muse_core::CommitFields {
            parents: &parents,
            snapshot_id: Some(&snapshot),
            author: "bob",
            timestamp: &ts,
            message: "claim",
        })
        .unwrap();
        json!({
            "branch": "main", "head_commit_id": cid,
            "commits": [{"commit_id": cid, "parent_ids": parents, "author": "bob", "timestamp": ts, "message": "claim", "snapshot_id": snapshot}],
            "snapshots": [{"snapshot_id": snapshot, "manifest": manifest}],
        })
    };
    let (status, v) = h
        .json(
            Method::POST,
            &format!("/{repo}/push"),
            Some(&h.bob),
            Some(c.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(error_code(&v), "push_failed");
    assert_eq!(main_head(&h, repo, Some(&h.bob)).await, head);
    // A stale push is a 409.
    let (status, v) = h
        .json(
            Method::POST,
            &format!("/{repo}/push"),
            Some(&h.alice),
            Some(c),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "alice uploaded it: {v}");
    let stale = json!({"branch": "main", "head_commit_id": head, "commits": []});
    let (status, v) = h
        .json(
            Method::POST,
            &format!("/{repo}/push"),
            Some(&h.alice),
            Some(stale),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&v), "non_fast_forward");
    // A body that is not a push.
    let (status, v) = h
        .json(
            Method::POST,
            &format!("/{repo}/push"),
            Some(&h.alice),
            Some(json!({"branch": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&v), "parse_error");
}

#[tokio::test]
async fn bodies_over_the_limit_get_a_json_rpc_413_on_mcp_too() {
    let h = start().await;
    let big = vec![b' '; 70 * 1024];
    for signer in [None, Some(&h.alice)] {
        let (status, headers, body) = h
            .send(
                Method::POST,
                "/mcp",
                signer,
                &[
                    ("content-type", "application/json".into()),
                    ("accept", "application/json, text/event-stream".into()),
                ],
                big.clone(),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "signed: {}",
            signer.is_some()
        );
        assert_eq!(headers["content-type"], "application/json");
        let v: Value = musehub_mcp::serde_json::from_slice(&body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&body)));
        assert_eq!(v["jsonrpc"], "2.0");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Payload Too Large"),
            "{v}"
        );
    }
    // A body of unknown length (chunked) over the limit, signed: still JSON.
    let stream = futures::stream::iter((0..70).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1024])));
    let auth = h.alice.sign_parts("POST", "/mcp", &big, None);
    let r = h
        .http
        .post(format!("{}/mcp", h.base))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("authorization", auth)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.headers()["content-type"], "application/json");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["jsonrpc"], "2.0");
}
