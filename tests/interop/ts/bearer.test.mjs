// Interop tests: the official MCP TypeScript SDK clients against the real musehub-server binary
// with OAuth 2.1 / Bearer credentials, in both protocol eras of its one /mcp endpoint:
//   - @modelcontextprotocol/sdk 1.x (StreamableHTTPClientTransport; handshake era, 2025-11-25);
//   - @modelcontextprotocol/client 2.x in `versionNegotiation: { mode: 'auto' }` (2026-07-28,
//     no handshake) and in `{ mode: 'legacy' }` (2025-11-25).
//
// Covered: a static agent token (`mha_…`, `Authorization: Bearer`) reads and writes as its
// handle; without credentials a write tool gets 401 with the RFC 9728 resource_metadata
// challenge (and the metadata documents it points to); a read-only token gets 403
// insufficient_scope; a revoked or garbage token gets 401 invalid_token; and each SDK's own
// OAuth client (OAuthClientProvider + auth() + finishAuth()) signs in by itself: Protected
// Resource Metadata, authorization server metadata, dynamic client registration, PKCE S256,
// the consent page (automated here: the person's browser is a fetch that keeps the page's
// cookie and enters a one-time code from `musehub-server login-code`), the code exchange, then
// writes as the signed-in person, and a refresh when the access token goes bad.
//
// The server binary comes from MUSEHUB_SERVER_BIN (default ../../../target/debug/musehub-server
// relative to this file); it runs on a fresh SQLite file in a temp dir on a free loopback port.
//
// Run: `node --test bearer.test.mjs` in this directory (see ../run.sh).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { Client as Client1 } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport as Transport1,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError as UnauthorizedError1 } from '@modelcontextprotocol/sdk/client/auth.js';
import {
  Client as Client2,
  InsufficientScopeError,
  SdkErrorCode,
  SdkHttpError,
  StreamableHTTPClientTransport as Transport2,
  UnauthorizedError as UnauthorizedError2,
} from '@modelcontextprotocol/client';

import { MODERN_VERSION, PROTOCOL_VERSION, TEST_TIMEOUT_MS } from './helpers.mjs';
import { listTokens, loginCode, mintToken, revokeToken, startHub, stopHub } from './hub.mjs';

const T = { timeout: TEST_TIMEOUT_MS };
const OAUTH_T = { timeout: 2 * TEST_TIMEOUT_MS };
const HANDLE = 'alice';
const REDIRECT_URI = 'http://127.0.0.1:53682/callback';

let hub; // { proc, base, url, dbUrl, dir, log }
let rwToken; // repo:read repo:write, agent "ts-agent"
let roToken; // repo:read, agent "ts-reader"

before(async () => {
  hub = await startHub();
  rwToken = await mintToken(hub, { handle: HANDLE, agent: 'ts-agent', scopes: 'repo:read repo:write' });
  roToken = await mintToken(hub, { handle: HANDLE, agent: 'ts-reader', scopes: 'repo:read' });
});

after(async () => {
  await stopHub(hub);
});

const prmUrl = () => `${hub.base}/.well-known/oauth-protected-resource/mcp`;

// ---------------------------------------------------------------------------------------------
// The clients
// ---------------------------------------------------------------------------------------------

/** The SDK generations and eras; `era` is the MCP-Protocol-Version every tools/call carries. */
const CLIENTS = [
  { name: 'sdk 1.x', gen: 1, era: PROTOCOL_VERSION },
  { name: 'client 2.x auto', gen: 2, mode: { mode: 'auto' }, era: MODERN_VERSION },
  { name: 'client 2.x legacy', gen: 2, mode: { mode: 'legacy' }, era: PROTOCOL_VERSION },
];

/** Every HTTP exchange a transport (or its OAuth client) makes, with its URL. */
function recorder() {
  const exchanges = [];
  const fetchImpl = async (url, init = {}) => {
    let body;
    if (typeof init.body === 'string') {
      try {
        body = JSON.parse(init.body);
      } catch {
        body = init.body;
      }
    } else if (init.body instanceof URLSearchParams) {
      body = Object.fromEntries(init.body);
    }
    const ex = {
      method: (init.method ?? 'GET').toUpperCase(),
      path: new URL(String(url)).pathname,
      headers: Object.fromEntries(new Headers(init.headers ?? {})),
      body,
      status: undefined,
      responseHeaders: {},
    };
    exchanges.push(ex);
    const res = await fetch(url, init);
    ex.status = res.status;
    ex.responseHeaders = Object.fromEntries(res.headers);
    return res;
  };
  const mcpPosts = () => exchanges.filter((e) => e.path === '/mcp' && e.method === 'POST');
  const toolCalls = (name) => mcpPosts().filter((e) => e.body?.method === 'tools/call' && e.body.params.name === name);
  const at = (method, path) => exchanges.filter((e) => e.method === method && e.path === path);
  return { fetchImpl, exchanges, mcpPosts, toolCalls, at };
}

/**
 * Connects `variant` to the hub. opts.headers: requestInit headers; opts.authProvider: the
 * transport's authProvider. Returns { client, transport, rec }.
 */
async function connect(variant, opts = {}) {
  const rec = recorder();
  const transportOpts = { fetch: rec.fetchImpl };
  if (opts.headers) transportOpts.requestInit = { headers: opts.headers };
  if (opts.authProvider) transportOpts.authProvider = opts.authProvider;
  let client;
  let transport;
  if (variant.gen === 1) {
    client = new Client1({ name: 'musehub-interop-ts-bearer', version: '1.0.0' });
    transport = new Transport1(new URL(hub.url), transportOpts);
  } else {
    client = new Client2({ name: 'musehub-interop-ts2-bearer', version: '1.0.0' }, { versionNegotiation: variant.mode });
    transport = new Transport2(new URL(hub.url), transportOpts);
  }
  await client.connect(transport);
  return { client, transport, rec };
}

async function withClient(variant, opts, fn) {
  const conn = await connect(variant, opts);
  try {
    return await fn(conn);
  } finally {
    await conn.client.close();
  }
}

/** The era every exchange of this connection was in: handshake or none, and the version header. */
function assertEra(variant, rec) {
  const inits = rec.mcpPosts().filter((e) => e.body?.method === 'initialize');
  if (variant.era === MODERN_VERSION) {
    assert.deepEqual(inits, [], 'a 2026-07-28 client sent initialize');
  } else {
    assert.equal(inits.length, 1, 'expected exactly one initialize');
    assert.equal(inits[0].body.params.protocolVersion, PROTOCOL_VERSION);
  }
  const calls = rec.mcpPosts().filter((e) => e.body?.method === 'tools/call');
  assert.ok(calls.length > 0);
  for (const c of calls) assert.equal(c.headers['mcp-protocol-version'], variant.era, JSON.stringify(c.body));
}

function structured(result) {
  assert.notEqual(result.isError, true, JSON.stringify(result));
  assert.ok(result.structuredContent, JSON.stringify(result));
  return result.structuredContent;
}

const repoName = (tag) => `ts ${tag} ${randomBytes(4).toString('hex')}`;

/** The repositories whose name is exactly `name` (searched anonymously, with the 1.x client). */
async function reposNamed(name) {
  return withClient(CLIENTS[0], {}, async ({ client }) => {
    const found = structured(await client.callTool({ name: 'musehub_search_repos', arguments: { query: name } }));
    return found.repos.filter((r) => r.name === name);
  });
}

/** Parses the `Bearer` challenge of a WWW-Authenticate header (several challenges joined by ", "). */
function bearerChallenge(header) {
  assert.ok(header, 'no WWW-Authenticate header');
  assert.match(header, /^Bearer /, header);
  assert.match(header, /MSign realm="musehub"/, header);
  const bearer = header.slice(0, header.indexOf('MSign'));
  const params = {};
  for (const m of bearer.matchAll(/([a-z_]+)="([^"]*)"/g)) params[m[1]] = m[2];
  return params;
}

// ---------------------------------------------------------------------------------------------
// Plain HTTP, as a reference for what the SDKs see
// ---------------------------------------------------------------------------------------------

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

async function post(headers, message) {
  const res = await fetch(hub.url, { method: 'POST', headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(message) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text ? JSON.parse(text) : undefined };
}

/**
 * One tools/call over plain fetch in `era`: 2026-07-28 is one enveloped POST; 2025-11-25 first
 * does the handshake (anonymously, as the SDKs do) and then calls on the session with `auth`.
 */
async function rawToolCall(era, auth, name, args) {
  const authHeaders = auth ? { authorization: auth } : {};
  if (era === MODERN_VERSION) {
    return post(
      { ...authHeaders, 'mcp-protocol-version': MODERN_VERSION, 'mcp-method': 'tools/call', 'mcp-name': name },
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: {
          name,
          arguments: args,
          _meta: {
            'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
            'io.modelcontextprotocol/clientCapabilities': {},
            'io.modelcontextprotocol/clientInfo': { name: 'musehub-interop-ts-fetch', version: '1.0.0' },
          },
        },
      },
    );
  }
  const init = await post(
    {},
    {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'musehub-interop-ts-fetch', version: '1.0.0' } },
    },
  );
  assert.equal(init.status, 200, init.text);
  const sid = init.headers.get('mcp-session-id');
  assert.ok(sid, 'initialize carried no Mcp-Session-Id');
  const session = { 'mcp-session-id': sid, 'mcp-protocol-version': PROTOCOL_VERSION };
  const initialized = await post(session, { jsonrpc: '2.0', method: 'notifications/initialized' });
  assert.equal(initialized.status, 202, initialized.text);
  return post({ ...session, ...authHeaders }, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } });
}

// ---------------------------------------------------------------------------------------------
// Static Bearer agent token
// ---------------------------------------------------------------------------------------------

describe('static Bearer agent token (requestInit headers)', () => {
  for (const variant of CLIENTS) {
    it(`${variant.name}: acts as alice's agent, reads and creates a repository`, T, async () => {
      const name = repoName(`static ${variant.name}`);
      await withClient(variant, { headers: { Authorization: `Bearer ${rwToken}` } }, async ({ client, rec }) => {
        const who = structured(await client.callTool({ name: 'musehub_whoami', arguments: {} }));
        assert.equal(who.authenticated, true, JSON.stringify(who));
        assert.equal(who.handle, HANDLE);
        assert.equal(who.is_agent, true);
        assert.equal(who.agent_name, 'ts-agent');

        const { repo } = structured(await client.callTool({ name: 'musehub_create_repo', arguments: { name } }));
        assert.equal(repo.owner, HANDLE);
        assert.equal(repo.name, name);

        const found = structured(await client.callTool({ name: 'musehub_search_repos', arguments: { query: name } }));
        assert.deepEqual(
          found.repos.filter((r) => r.name === name).map((r) => [r.owner, r.slug]),
          [[HANDLE, repo.slug]],
        );

        assertEra(variant, rec);
        const [call] = rec.toolCalls('musehub_create_repo');
        assert.equal(call.status, 200);
        for (const e of rec.mcpPosts()) assert.equal(e.headers.authorization, `Bearer ${rwToken}`, JSON.stringify(e.body));
      });
    });
  }

  it('client 2.x auto: a minimal AuthProvider { token } sends the same Bearer', T, async () => {
    const variant = CLIENTS[1];
    const name = repoName('authprovider');
    let asked = 0;
    const authProvider = {
      token: async () => {
        asked++;
        return rwToken;
      },
    };
    await withClient(variant, { authProvider }, async ({ client, rec }) => {
      const who = structured(await client.callTool({ name: 'musehub_whoami', arguments: {} }));
      assert.equal(who.handle, HANDLE);
      assert.equal(who.is_agent, true);
      const { repo } = structured(await client.callTool({ name: 'musehub_create_repo', arguments: { name } }));
      assert.equal(repo.owner, HANDLE);
      assertEra(variant, rec);
      for (const e of rec.mcpPosts()) assert.equal(e.headers.authorization, `Bearer ${rwToken}`);
    });
    assert.ok(asked >= 2, `token() called ${asked} times`);
  });
});

// ---------------------------------------------------------------------------------------------
// No credentials
// ---------------------------------------------------------------------------------------------

describe('no credentials', () => {
  for (const variant of CLIENTS) {
    it(`${variant.name}: reads work; a write tool is refused with HTTP 401`, T, async () => {
      const name = repoName(`anon ${variant.name}`);
      await withClient(variant, {}, async ({ client, rec }) => {
        const who = structured(await client.callTool({ name: 'musehub_whoami', arguments: {} }));
        assert.equal(who.authenticated, false);
        assert.equal(who.handle, undefined);
        const found = structured(await client.callTool({ name: 'musehub_search_repos', arguments: {} }));
        assert.ok(Array.isArray(found.repos));

        await assert.rejects(client.callTool({ name: 'musehub_create_repo', arguments: { name } }), (err) => {
          let body;
          if (variant.gen === 1) {
            // 1.x: StreamableHTTPError with the HTTP status as `code` and the response body in the message.
            assert.ok(err instanceof StreamableHTTPError, `expected StreamableHTTPError, got ${err}`);
            assert.equal(err.code, 401);
            const prefix = 'Streamable HTTP error: Error POSTing to endpoint: ';
            assert.ok(err.message.startsWith(prefix), err.message);
            body = JSON.parse(err.message.slice(prefix.length));
          } else {
            // 2.x: SdkHttpError carrying status and body (its code for a non-auth-handled status).
            assert.ok(err instanceof SdkHttpError, `expected SdkHttpError, got ${err}`);
            assert.equal(err.status, 401);
            assert.equal(err.code, SdkErrorCode.ClientHttpNotImplemented);
            assert.match(err.message, /^Error POSTing to endpoint: /);
            body = JSON.parse(err.data.text);
          }
          assert.equal(body.error.code, -32001, JSON.stringify(body));
          assert.match(body.error.message, /^Unauthorized: tool `musehub_create_repo` changes data and needs credentials/);
          return true;
        });

        const [call] = rec.toolCalls('musehub_create_repo');
        assert.equal(call.status, 401);
        assert.equal(call.headers.authorization, undefined);
        assert.deepEqual(bearerChallenge(call.responseHeaders['www-authenticate']), {
          resource_metadata: prmUrl(),
          scope: 'repo:write',
        });
        assertEra(variant, rec);
      });
      assert.deepEqual(await reposNamed(name), [], 'the refused call created the repository');
    });
  }

  for (const era of [PROTOCOL_VERSION, MODERN_VERSION]) {
    it(`plain fetch (${era}): 401, the resource_metadata challenge, and the metadata it points to`, T, async () => {
      const res = await rawToolCall(era, undefined, 'musehub_create_repo', { name: repoName('raw anon') });
      assert.equal(res.status, 401, res.text);
      const header = res.headers.get('www-authenticate');
      assert.deepEqual(bearerChallenge(header), { resource_metadata: prmUrl(), scope: 'repo:write' }, header);
      assert.equal(res.json.id, 1);
      assert.equal(res.json.error.code, -32001, res.text);

      const prm = await fetch(bearerChallenge(header).resource_metadata);
      assert.equal(prm.status, 200);
      assert.match(prm.headers.get('content-type'), /^application\/json/);
      const meta = await prm.json();
      assert.equal(meta.resource, hub.url);
      assert.deepEqual(meta.authorization_servers, [hub.base]);
      assert.ok(meta.scopes_supported.includes('repo:write'), JSON.stringify(meta));
      assert.ok(meta.bearer_methods_supported.includes('header'), JSON.stringify(meta));

      const as = await fetch(`${meta.authorization_servers[0]}/.well-known/oauth-authorization-server`);
      assert.equal(as.status, 200);
      const asMeta = await as.json();
      assert.equal(asMeta.issuer, hub.base);
      assert.equal(asMeta.authorization_endpoint, `${hub.base}/oauth/authorize`);
      assert.equal(asMeta.token_endpoint, `${hub.base}/oauth/token`);
      assert.equal(asMeta.registration_endpoint, `${hub.base}/oauth/register`);
      assert.deepEqual(asMeta.code_challenge_methods_supported, ['S256']);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Read-only token
// ---------------------------------------------------------------------------------------------

describe('read-only token (repo:read)', () => {
  for (const variant of CLIENTS) {
    it(`${variant.name}: reads as alice; a write tool gets 403 insufficient_scope`, T, async () => {
      const name = repoName(`ro ${variant.name}`);
      await withClient(variant, { headers: { Authorization: `Bearer ${roToken}` } }, async ({ client, rec }) => {
        const who = structured(await client.callTool({ name: 'musehub_whoami', arguments: {} }));
        assert.equal(who.authenticated, true);
        assert.equal(who.handle, HANDLE);
        assert.equal(who.agent_name, 'ts-reader');
        const found = structured(await client.callTool({ name: 'musehub_search_repos', arguments: {} }));
        assert.ok(Array.isArray(found.repos));

        await assert.rejects(client.callTool({ name: 'musehub_create_repo', arguments: { name } }), (err) => {
          if (variant.gen === 1) {
            assert.ok(err instanceof StreamableHTTPError, `expected StreamableHTTPError, got ${err}`);
            assert.equal(err.code, 403);
            const body = JSON.parse(err.message.slice('Streamable HTTP error: Error POSTing to endpoint: '.length));
            assert.equal(body.error.code, -32003, JSON.stringify(body));
            assert.deepEqual(body.error.data, { error: 'insufficient_scope', scope: 'repo:write' });
          } else {
            // 2.x reads the challenge itself; without an OAuth provider to step up it throws.
            assert.ok(err instanceof InsufficientScopeError, `expected InsufficientScopeError, got ${err}`);
            assert.equal(err.requiredScope, 'repo:write');
            assert.equal(String(err.resourceMetadataUrl), prmUrl());
            assert.equal(err.errorDescription, 'needs the scope(s) repo:write');
          }
          return true;
        });

        const [call] = rec.toolCalls('musehub_create_repo');
        assert.equal(call.status, 403);
        assert.deepEqual(bearerChallenge(call.responseHeaders['www-authenticate']), {
          resource_metadata: prmUrl(),
          scope: 'repo:write',
          error: 'insufficient_scope',
          error_description: 'needs the scope(s) repo:write',
        });
        assertEra(variant, rec);
      });
      assert.deepEqual(await reposNamed(name), [], 'the refused call created the repository');
    });
  }

  for (const era of [PROTOCOL_VERSION, MODERN_VERSION]) {
    it(`plain fetch (${era}): 403 with error="insufficient_scope", scope="repo:write"`, T, async () => {
      const res = await rawToolCall(era, `Bearer ${roToken}`, 'musehub_create_repo', { name: repoName('raw ro') });
      assert.equal(res.status, 403, res.text);
      const challenge = bearerChallenge(res.headers.get('www-authenticate'));
      assert.equal(challenge.error, 'insufficient_scope');
      assert.equal(challenge.scope, 'repo:write');
      assert.equal(challenge.resource_metadata, prmUrl());
      assert.equal(res.json.error.code, -32003, res.text);
      assert.equal(res.json.error.data.error, 'insufficient_scope');
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Revoked and garbage tokens
// ---------------------------------------------------------------------------------------------

describe('revoked and garbage tokens', () => {
  it('a revoked agent token is refused with 401 invalid_token, by both SDKs and on the wire', T, async () => {
    const token = await mintToken(hub, { handle: HANDLE, agent: 'ts-revoked', scopes: 'repo:read repo:write' });
    const headers = { Authorization: `Bearer ${token}` };
    await withClient(CLIENTS[0], { headers }, async ({ client }) => {
      assert.equal(structured(await client.callTool({ name: 'musehub_whoami', arguments: {} })).agent_name, 'ts-revoked');
    });

    const [row, ...more] = (await listTokens(hub, HANDLE)).filter((t) => t.agent_name === 'ts-revoked');
    assert.equal(more.length, 0);
    assert.equal(row.revoked_at, undefined);
    await revokeToken(hub, { handle: HANDLE, id: row.id });
    const [revoked] = (await listTokens(hub, HANDLE)).filter((t) => t.id === row.id);
    assert.ok(revoked.revoked_at, JSON.stringify(revoked));

    // A refused token is refused on every request, so both SDKs fail while connecting.
    await assert.rejects(connect(CLIENTS[0], { headers }), (err) => {
      assert.ok(err instanceof StreamableHTTPError, `expected StreamableHTTPError, got ${err}`);
      assert.equal(err.code, 401);
      assert.match(err.message, /the bearer token was refused \(revoked\)/);
      return true;
    });
    await assert.rejects(connect(CLIENTS[1], { headers }), (err) => {
      assert.ok(err instanceof SdkHttpError, `expected SdkHttpError, got ${err}`);
      assert.equal(err.status, 401);
      assert.equal(err.code, SdkErrorCode.ClientHttpAuthentication);
      assert.match(err.data.text, /the bearer token was refused \(revoked\)/);
      return true;
    });

    for (const era of [PROTOCOL_VERSION, MODERN_VERSION]) {
      const res = await rawToolCall(era, `Bearer ${token}`, 'musehub_whoami', {});
      assert.equal(res.status, 401, res.text);
      const challenge = bearerChallenge(res.headers.get('www-authenticate'));
      assert.equal(challenge.error, 'invalid_token');
      assert.equal(challenge.error_description, 'revoked');
      assert.equal(challenge.resource_metadata, prmUrl());
      assert.equal(res.json.error.code, -32001);
      assert.equal(res.json.error.data.reason, 'revoked');
    }
  });

  it('a garbage token is refused with 401 invalid_token', T, async () => {
    for (const era of [PROTOCOL_VERSION, MODERN_VERSION]) {
      const res = await rawToolCall(era, 'Bearer mha_not-a-token', 'musehub_whoami', {});
      assert.equal(res.status, 401, res.text);
      assert.equal(bearerChallenge(res.headers.get('www-authenticate')).error, 'invalid_token');
      assert.equal(res.json.error.code, -32001);
    }
    await assert.rejects(connect(CLIENTS[0], { headers: { Authorization: 'Bearer mha_not-a-token' } }), (err) => {
      assert.ok(err instanceof StreamableHTTPError, `expected StreamableHTTPError, got ${err}`);
      assert.equal(err.code, 401);
      return true;
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Full OAuth with the SDKs' own OAuth clients
// ---------------------------------------------------------------------------------------------

function hiddenField(html, name) {
  const m = html.match(new RegExp(`name="${name}" value="([^"]*)"`));
  assert.ok(m, `no ${name} field on the consent page`);
  return m[1];
}

/**
 * An in-memory OAuthClientProvider (the interface both SDK generations define). Its
 * redirectToAuthorization is the person at the browser: it opens the authorization URL
 * (keeping the page's CSRF cookie), signs in with a one-time code, allows, and reads the
 * redirect's code, state and iss. Nothing listens on the redirect URI: it is read, not followed.
 */
class MemoryOAuthProvider {
  constructor() {
    this.client = undefined;
    this.savedTokens = undefined;
    this.verifier = undefined;
    this.discovery = undefined;
    this.lastState = undefined;
    this.visits = []; // authorization URLs
    this.callback = undefined; // { code, state, iss }
    this.registrations = 0;
  }

  get redirectUrl() {
    return REDIRECT_URI;
  }

  get clientMetadata() {
    return {
      client_name: 'MuseHub interop (TypeScript SDK)',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  state() {
    this.lastState = randomBytes(16).toString('hex');
    return this.lastState;
  }

  clientInformation() {
    return this.client;
  }

  saveClientInformation(info) {
    this.registrations++;
    this.client = info;
  }

  tokens() {
    return this.savedTokens;
  }

  saveTokens(tokens) {
    this.savedTokens = tokens;
  }

  saveCodeVerifier(verifier) {
    this.verifier = verifier;
  }

  codeVerifier() {
    return this.verifier;
  }

  // 2.x binds the code exchange to the authorization server recorded here (SEP-2352).
  saveDiscoveryState(state) {
    this.discovery = state;
  }

  discoveryState() {
    return this.discovery;
  }

  async redirectToAuthorization(authorizationUrl) {
    const url = new URL(String(authorizationUrl));
    this.visits.push(url);
    const page = await fetch(url, { redirect: 'manual' });
    const html = await page.text();
    assert.equal(page.status, 200, html);
    const csp = page.headers.get('content-security-policy');
    assert.ok(csp.includes("frame-ancestors 'none'") && !csp.includes('unsafe-inline'), csp);
    const cookies = page.headers.getSetCookie().map((c) => c.split(';')[0]);
    assert.ok(cookies.length > 0, 'the consent page set no cookie');
    const form = new URLSearchParams({
      pending: hiddenField(html, 'pending'),
      csrf: hiddenField(html, 'csrf'),
      login_code: await loginCode(hub, HANDLE),
      decision: 'allow',
    });
    const answer = await fetch(new URL('/oauth/authorize/consent', url), {
      method: 'POST',
      body: form,
      headers: { cookie: cookies.join('; ') },
      redirect: 'manual',
    });
    assert.equal(answer.status, 303, await answer.text());
    const location = answer.headers.get('location');
    assert.ok(location.startsWith(`${REDIRECT_URI}?`), location);
    const q = new URL(location).searchParams;
    this.callback = { code: q.get('code'), state: q.get('state'), iss: q.get('iss') };
  }
}

describe('OAuth 2.1 with the SDK OAuth client (discovery, registration, PKCE, consent, refresh)', () => {
  for (const variant of CLIENTS) {
    it(`${variant.name}: signs in as alice through the consent page, then writes`, OAUTH_T, async () => {
      const provider = new MemoryOAuthProvider();
      const UnauthorizedError = variant.gen === 1 ? UnauthorizedError1 : UnauthorizedError2;

      // 1. Anonymous until a write: reads work, the write's 401 starts the OAuth flow, which
      //    ends at the (automated) browser and surfaces as UnauthorizedError.
      const first = await connect(variant, { authProvider: provider });
      let rec = first.rec;
      try {
        const who = structured(await first.client.callTool({ name: 'musehub_whoami', arguments: {} }));
        assert.equal(who.authenticated, false);
        await assert.rejects(
          first.client.callTool({ name: 'musehub_create_repo', arguments: { name: repoName('before oauth') } }),
          (err) => {
            assert.ok(err instanceof UnauthorizedError, `expected UnauthorizedError, got ${err}`);
            return true;
          },
        );
        assert.equal(provider.visits.length, 1);
        assert.ok(provider.callback?.code, 'the consent step produced no code');

        // The authorization request the SDK built: PKCE S256, the registered client, the
        // resource indicator, the challenged scope, our state.
        const authz = provider.visits[0];
        assert.equal(authz.origin + authz.pathname, `${hub.base}/oauth/authorize`);
        const p = authz.searchParams;
        assert.equal(p.get('response_type'), 'code');
        assert.equal(p.get('code_challenge_method'), 'S256');
        assert.match(p.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
        assert.equal(p.get('client_id'), provider.client.client_id);
        assert.equal(p.get('redirect_uri'), REDIRECT_URI);
        assert.equal(p.get('resource'), hub.url);
        assert.ok(p.get('scope').split(' ').includes('repo:write'), p.get('scope'));
        assert.equal(p.get('state'), provider.lastState);
        // The hub's answer: the same state, and its issuer (RFC 9207).
        assert.equal(provider.callback.state, provider.lastState);
        assert.equal(provider.callback.iss, hub.base);

        // Dynamic client registration happened, as a public client.
        assert.equal(provider.registrations, 1);
        assert.equal(typeof provider.client.client_id, 'string');
        assert.ok(provider.client.client_id.length > 0);
        assert.deepEqual(provider.client.redirect_uris, [REDIRECT_URI]);
        assert.equal(provider.client.token_endpoint_auth_method, 'none');
        assert.equal(provider.client.client_secret, undefined);

        // 2. The code from the redirect goes to finishAuth (2.x also checks iss).
        if (variant.gen === 1) await first.transport.finishAuth(provider.callback.code);
        else await first.transport.finishAuth(provider.callback.code, provider.callback.iss);
      } finally {
        await first.client.close();
      }

      const tokens = provider.savedTokens;
      assert.ok(tokens, 'finishAuth saved no tokens');
      assert.equal(tokens.token_type.toLowerCase(), 'bearer');
      assert.ok(tokens.access_token);
      assert.ok(tokens.refresh_token, 'no refresh_token');
      assert.ok(tokens.scope.split(' ').includes('repo:write'), tokens.scope);

      // Discovery, registration and the code exchange, as the SDK's OAuth client did them.
      assert.deepEqual(
        rec.at('GET', '/.well-known/oauth-protected-resource/mcp').map((e) => e.status),
        [200],
      );
      assert.ok(rec.at('GET', '/.well-known/oauth-authorization-server').some((e) => e.status === 200));
      const [register, ...moreRegister] = rec.at('POST', '/oauth/register');
      assert.equal(moreRegister.length, 0);
      assert.equal(register.status, 201);
      assert.deepEqual(register.body.redirect_uris, [REDIRECT_URI]);
      const [exchange, ...moreTokens] = rec.at('POST', '/oauth/token');
      assert.equal(moreTokens.length, 0);
      assert.equal(exchange.status, 200);
      assert.equal(exchange.body.grant_type, 'authorization_code');
      assert.equal(exchange.body.code, provider.callback.code);
      assert.equal(exchange.body.code_verifier, provider.verifier);
      assert.equal(exchange.body.resource, hub.url);

      // 3. Reconnect with the same provider: signed in as alice (a person, not an agent).
      const name = repoName(`oauth ${variant.name}`);
      await withClient(variant, { authProvider: provider }, async ({ client, rec: rec2 }) => {
        rec = rec2;
        const who = structured(await client.callTool({ name: 'musehub_whoami', arguments: {} }));
        assert.equal(who.authenticated, true, JSON.stringify(who));
        assert.equal(who.handle, HANDLE);
        assert.equal(who.is_agent, false);
        const { repo } = structured(await client.callTool({ name: 'musehub_create_repo', arguments: { name } }));
        assert.equal(repo.owner, HANDLE);
        assertEra(variant, rec);
        for (const e of rec.mcpPosts()) assert.equal(e.headers.authorization, `Bearer ${tokens.access_token}`);
      });
      assert.deepEqual((await reposNamed(name)).map((r) => r.owner), [HANDLE]);

      // 4. The access token goes bad: the 401 makes the SDK refresh (no second consent) and retry.
      provider.savedTokens = { ...tokens, access_token: 'not-a-valid-access-token' };
      const refreshedName = repoName(`refreshed ${variant.name}`);
      await withClient(variant, { authProvider: provider }, async ({ client, rec: rec3 }) => {
        const { repo } = structured(
          await client.callTool({ name: 'musehub_create_repo', arguments: { name: refreshedName } }),
        );
        assert.equal(repo.owner, HANDLE);
        const [refresh, ...moreRefresh] = rec3.at('POST', '/oauth/token');
        assert.equal(moreRefresh.length, 0);
        assert.equal(refresh.status, 200);
        assert.equal(refresh.body.grant_type, 'refresh_token');
        assert.equal(refresh.body.refresh_token, tokens.refresh_token);
        assert.ok(rec3.mcpPosts().some((e) => e.status === 401), 'the bad token was never refused');
      });
      assert.equal(provider.visits.length, 1, 'the refresh went through the consent page again');
      assert.equal(provider.registrations, 1, 'the client registered again');
      assert.ok(provider.savedTokens.access_token !== tokens.access_token);
      assert.ok(provider.savedTokens.access_token !== 'not-a-valid-access-token');
      assert.ok(provider.savedTokens.refresh_token);
    });
  }
});
