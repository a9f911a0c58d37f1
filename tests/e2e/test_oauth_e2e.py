"""End to end with OAuth: the official Python SDK's `OAuthClientProvider` signs in to
`musehub-server` by itself (Protected Resource Metadata, authorization server metadata,
dynamic client registration, PKCE S256, the consent page, the code exchange) and then creates
a repository and pushes, in both protocol eras.

Driven by `tests/e2e/oauth.sh`, which starts the server on a fresh SQLite file and passes:

    MUSEHUB_E2E_URL     the /mcp endpoint
    MUSEHUB_E2E_BIN     the musehub-server binary (for `login-code`)
    MUSEHUB_E2E_DB      its database URL
    MUSEHUB_E2E_HANDLE  the handle to sign in as

The person at the browser is automated: the provider's redirect handler opens the
authorization URL with httpx (keeping the page's cookie), reads the form, enters a one-time
code from `musehub-server login-code`, allows, and hands the redirect's code and state to the
callback handler. Nothing listens on the redirect URI: the redirect is read, not followed.
"""

from __future__ import annotations

import httpx2

httpx2.alias_httpx()

import os  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import uuid  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import parse_qs, urlparse  # noqa: E402

import anyio  # noqa: E402
import muse_ids  # noqa: E402
import mcp_types as types  # noqa: E402
import pytest  # noqa: E402
from mcp import Client  # noqa: E402
from mcp.client.auth import OAuthClientProvider, TokenStorage  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken  # noqa: E402

URL = os.environ.get("MUSEHUB_E2E_URL", "")
BIN = os.environ.get("MUSEHUB_E2E_BIN", "")
DB = os.environ.get("MUSEHUB_E2E_DB", "")
HANDLE = os.environ.get("MUSEHUB_E2E_HANDLE", "")
TIMEOUT_S = 60
REDIRECT_URI = "http://127.0.0.1:53682/callback"

pytestmark = pytest.mark.skipif(not (URL and BIN and DB and HANDLE), reason="run through tests/e2e/oauth.sh")


class MemoryStorage(TokenStorage):
    """Tokens and the registration, for one test."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


def login_code() -> str:
    """A one-time sign-in code, as the person would get it from the operator's CLI."""
    out = subprocess.run(
        [BIN, "login-code", "--handle", HANDLE, "--database-url", DB],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def hidden(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m, f"no {name} field on the consent page"
    return m.group(1)


class Browser:
    """The person: opens the authorization URL, signs in with a one-time code, allows."""

    def __init__(self) -> None:
        self.result: AuthorizationCodeResult | None = None
        self.visits: list[str] = []

    async def redirect_handler(self, authorization_url: str) -> None:
        self.visits.append(authorization_url)
        async with httpx2.AsyncClient(follow_redirects=False, timeout=10) as http:
            page = await http.get(authorization_url)
            assert page.status_code == 200, page.text
            csp = page.headers["content-security-policy"]
            assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp, csp
            form = {
                "pending": hidden(page.text, "pending"),
                "csrf": hidden(page.text, "csrf"),
                "login_code": login_code(),
                "decision": "allow",
            }
            action = str(page.url.copy_with(path="/oauth/authorize/consent", query=None))
            answer = await http.post(action, data=form)
            assert answer.status_code == 303, answer.text
            location = answer.headers["location"]
            assert location.startswith(REDIRECT_URI), location
            q = parse_qs(urlparse(location).query)
            self.result = AuthorizationCodeResult(code=q["code"][0], state=q["state"][0], iss=q.get("iss", [None])[0])

    async def callback_handler(self) -> AuthorizationCodeResult:
        assert self.result is not None, "the redirect handler did not run"
        return self.result


def oauth_provider(browser: Browser, storage: MemoryStorage) -> OAuthClientProvider:
    return OAuthClientProvider(
        server_url=URL,
        client_metadata=OAuthClientMetadata(
            client_name="MuseHub e2e (Python SDK)",
            redirect_uris=[REDIRECT_URI],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=browser.redirect_handler,
        callback_handler=browser.callback_handler,
    )


def structured(result: types.CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result
    assert result.structured_content is not None, result
    return result.structured_content


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


MODES = ["legacy", "2026-07-28"]


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_the_sdk_signs_in_with_oauth_then_creates_a_repository_and_pushes(mode: str) -> None:
    browser = Browser()
    storage = MemoryStorage()
    exchanges: list[tuple[str, str, int]] = []

    async def record(response: httpx2.Response) -> None:
        exchanges.append((response.request.method, response.request.url.path, response.status_code))

    http = httpx2.AsyncClient(
        auth=oauth_provider(browser, storage),
        timeout=httpx2.Timeout(10.0, read=60.0),
        event_hooks={"response": [record]},
    )
    with anyio.fail_after(TIMEOUT_S):
        async with http:
            async with Client(streamable_http_client(URL, http_client=http), mode=mode) as client:
                repo = structured(
                    await client.call_tool("musehub_create_repo", {"name": f"OAuth {uuid.uuid4().hex[:8]}"})
                )["repo"]
                assert repo["owner"] == HANDLE, repo
                where = {"owner": repo["owner"], "slug": repo["slug"]}
                (main,) = [b for b in structured(await client.call_tool("musehub_list_branches", where))["branches"] if b["name"] == "main"]
                commit, snap, objs = muse_ids.commit(
                    [main["head_commit_id"]], {"tracks/a.mid": b"oauth"}, HANDLE, "Signed in with OAuth"
                )
                c1 = commit["commit_id"]
                pushed = structured(
                    await client.call_tool(
                        "muse_push",
                        {**where, "branch": "main", "head_commit_id": c1, "commits": [commit], "snapshots": [snap], "objects": objs},
                    )
                )
                assert pushed["head_commit_id"] == c1
                who = structured(await client.call_tool("musehub_whoami", {}))
                assert who["handle"] == HANDLE

    # The provider went through discovery, registration and the code flow exactly once.
    assert len(browser.visits) == 1, browser.visits
    paths = [p for (_, p, _) in exchanges]
    assert any(p.startswith("/.well-known/oauth-protected-resource") for p in paths), exchanges
    assert "/.well-known/oauth-authorization-server" in paths, exchanges
    assert "/oauth/register" in paths and "/oauth/token" in paths, exchanges
    assert storage.tokens is not None and storage.tokens.refresh_token, storage.tokens
    assert storage.tokens.scope and "repo:write" in storage.tokens.scope.split()
