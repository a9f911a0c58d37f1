//! Shared by the OAuth tests: the application served in-process on 127.0.0.1 (its public URL
//! the bound address, so the issuer and resource are real URLs), an HTTP client that follows
//! no redirects, the consent page's form fields, PKCE, and the captured log.
#![allow(dead_code)]

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use musehub_mcp::serde_json::{Value, json};
use musehub_server::oauth::{OAuth, OAuthSettings};
use musehub_server::{Db, HubSettings};
use sha2::{Digest, Sha256};

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

/// The process-wide log of this test binary (every level from debug, all crates).
pub fn global_log() -> LogBuffer {
    static LOG: std::sync::OnceLock<LogBuffer> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        let log = LogBuffer::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_env_filter("debug")
            .with_writer(move || writer.clone())
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        log
    })
    .clone()
}

/// A served hub.
pub struct Hub {
    pub base: String,
    pub db: Db,
    pub oauth: OAuth,
    pub http: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// The whole application (`http::app_with`) on a fresh database, with these OAuth
/// settings.
pub async fn start(settings: OAuthSettings) -> Hub {
    global_log();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let url = super::common::fresh_database_url().await;
    let db = Db::connect(
        &url,
        HubSettings {
            public_url: base.clone(),
            objects_dir: super::common::objects_dir(),
            ..HubSettings::default()
        },
    )
    .await
    .expect("db");
    let auth = musehub_server::AuthSettings {
        rate_limits: None,
        ..musehub_server::AuthSettings::default()
    };
    // One OAuth for the server's Bearer scheme and the routes, as `musehub-server serve` does.
    let oauth = OAuth::new(db.clone(), settings, &auth);
    let server = musehub_server::build_server_with(
        db.clone(),
        musehub_mcp::ServerConfig::default(),
        &auth,
        musehub_server::docs_options(Some(&base)),
        &oauth,
    )
    .expect("server");
    let app = musehub_server::http::app_with(
        server.clone(),
        db.clone(),
        &musehub_server::AuthSettings::default(),
        &oauth,
    );
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(musehub_mcp::transport::http::serve_router(
        server,
        app,
        listener,
        async {
            let _ = rx.await;
        },
    ));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    Hub {
        base,
        db,
        oauth,
        http,
        _stop: tx,
    }
}

/// The default settings.
pub async fn hub() -> Hub {
    start(OAuthSettings::default()).await
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce() -> (String, String) {
    let verifier = format!("v{}", uuid::Uuid::new_v4().simple()).repeat(2);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

pub const REDIRECT: &str = "http://127.0.0.1:43210/callback";

/// A dynamically registered client.
pub struct Client {
    pub id: String,
    pub secret: Option<String>,
}

impl Hub {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn resource(&self) -> String {
        format!("{}/mcp", self.base)
    }

    /// `POST /oauth/register` with `body`: status and JSON.
    pub async fn register_raw(&self, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url("/oauth/register"))
            .json(body)
            .send()
            .await
            .expect("register");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A public client (no secret) allowed to refresh, redirecting to [`REDIRECT`].
    pub async fn public_client(&self) -> Client {
        let (status, v) = self
            .register_raw(&json!({
                "client_name": "Test client",
                "redirect_uris": [REDIRECT],
                "grant_types": ["authorization_code", "refresh_token"],
                "token_endpoint_auth_method": "none",
            }))
            .await;
        assert_eq!(status, 201, "{v}");
        Client {
            id: v["client_id"].as_str().expect("client_id").to_string(),
            secret: None,
        }
    }

    /// `GET /oauth/authorize` with these parameters.
    pub async fn authorize(&self, params: &[(&str, &str)]) -> reqwest::Response {
        let q = serde_urlencoded::to_string(params).expect("query");
        self.http
            .get(format!("{}?{q}", self.url("/oauth/authorize")))
            .send()
            .await
            .expect("authorize")
    }

    /// The standard authorization request of `client` with `challenge`.
    pub async fn authorize_client(
        &self,
        client: &Client,
        challenge: &str,
        state: &str,
    ) -> reqwest::Response {
        let resource = self.resource();
        self.authorize(&[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", REDIRECT),
            ("state", state),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
            ("scope", "repo:read repo:write"),
            ("resource", &resource),
        ])
        .await
    }

    /// A one-time login code for `handle`, valid `ttl` seconds.
    pub async fn login_code(&self, handle: &str, ttl: i64) -> String {
        let code = musehub_server::oauth::storage::new_login_code();
        musehub_server::oauth::storage::put_login_code(&self.db, &code, handle, ttl)
            .await
            .expect("login code");
        code
    }

    /// `POST /oauth/authorize/consent` with the page's fields plus `extra`, sending `cookie`.
    pub async fn consent(
        &self,
        page: &Page,
        extra: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> reqwest::Response {
        let mut fields: Vec<(&str, &str)> = vec![("pending", &page.pending), ("csrf", &page.csrf)];
        fields.extend_from_slice(extra);
        let mut req = self
            .http
            .post(self.url("/oauth/authorize/consent"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(&fields).expect("form"));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.send().await.expect("consent")
    }

    /// `POST /oauth/token` with `form` (and Basic credentials when given): status and JSON.
    pub async fn token(&self, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> (u16, Value) {
        let mut req = self
            .http
            .post(self.url("/oauth/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).expect("form"));
        if let Some((id, secret)) = basic {
            req = req.basic_auth(id, Some(secret));
        }
        let r = req.send().await.expect("token");
        let status = r.status().as_u16();
        assert_eq!(
            r.headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "token answers are never cached"
        );
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Authorization up to the code: page, consent with a login code for `handle`, redirect.
    pub async fn code_for(&self, client: &Client, handle: &str, challenge: &str) -> String {
        let r = self.authorize_client(client, challenge, "st-1").await;
        assert_eq!(r.status().as_u16(), 200);
        let page = Page::read(r).await;
        let code = self.login_code(handle, 600).await;
        let r = self
            .consent(
                &page,
                &[("decision", "allow"), ("login_code", &code)],
                Some(&page.cookie),
            )
            .await;
        assert_eq!(
            r.status().as_u16(),
            303,
            "{}",
            r.text().await.unwrap_or_default()
        );
        let loc = location(&r);
        query_param(&loc, "code").expect("code in the redirect")
    }

    /// A fresh code exchanged for tokens: the token answer.
    pub async fn tokens_for(&self, client: &Client, handle: &str) -> Value {
        let (verifier, challenge) = pkce();
        let code = self.code_for(client, handle, &challenge).await;
        let (status, v) = self
            .token(
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                    ("client_id", &client.id),
                    ("code_verifier", &verifier),
                ],
                None,
            )
            .await;
        assert_eq!(status, 200, "{v}");
        v
    }
}

/// The consent page's form fields and cookie.
pub struct Page {
    pub html: String,
    pub pending: String,
    pub csrf: String,
    /// `name=value` of the CSRF cookie.
    pub cookie: String,
    pub csp: String,
    pub set_cookie: String,
}

/// The value of `<input ... name="NAME" value="...">`.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

impl Page {
    pub async fn read(r: reqwest::Response) -> Page {
        let csp = r
            .headers()
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let set_cookie = r
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let html = r.text().await.expect("page");
        let pending =
            hidden(&html, "pending").unwrap_or_else(|| panic!("no pending field in {html}"));
        let csrf = hidden(&html, "csrf").expect("csrf field");
        let cookie = set_cookie.split(';').next().unwrap_or("").to_string();
        Page {
            html,
            pending,
            csrf,
            cookie,
            csp,
            set_cookie,
        }
    }

    /// The MSign challenge shown on the page.
    pub fn challenge(&self) -> String {
        let start = self.html.find("musehub-consent:").expect("challenge");
        self.html[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_'))
            .collect()
    }
}

/// The `Location` header.
pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no Location on {}", r.status()))
        .to_string()
}

/// A query parameter of a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    parsed
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.to_string())
}
