// The OAuth sign-in/consent page in Debian's headless chromium, as a person meets it: a
// client registered (RFC 7591) with a loopback redirect URI served here, the authorization
// request opened in the browser, the page checked (status, CSP without unsafe-inline and
// with frame-ancestors 'none', X-Frame-Options, no console error such as a CSP violation,
// its stylesheet applied), the one-time code typed, Allow clicked, the browser sent back to
// the client with code, state and iss; the code then exchanged for tokens (PKCE S256).
// A wrong code first shows the error on the page and stays there.
//
// Usage: LOGIN_CODE=... DOCS_BROWSER=dir node consent.mjs BASE_URL SCREENSHOT_DIR
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const require = createRequire(join(process.env.DOCS_BROWSER, "package.json"));
const { chromium } = require("playwright-core");

const [base, outDir] = process.argv.slice(2);
const loginCode = process.env.LOGIN_CODE;
if (!base || !outDir || !loginCode) {
  console.error("usage: LOGIN_CODE=... DOCS_BROWSER=dir node consent.mjs BASE_URL SCREENSHOT_DIR");
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

const failures = [];
function check(ok, message) {
  console.log(`  ${ok ? "ok  " : "FAIL"} ${message}`);
  if (!ok) failures.push(message);
}

// The client's loopback redirect endpoint.
const callbacks = [];
const callbackServer = createServer((req, res) => {
  callbacks.push(new URL(req.url, "http://127.0.0.1"));
  res.writeHead(200, { "content-type": "text/html" });
  res.end("<!doctype html><title>Client</title><p>Signed in.</p>");
});
await new Promise((resolve) => callbackServer.listen(0, "127.0.0.1", resolve));
const redirectUri = `http://127.0.0.1:${callbackServer.address().port}/callback`;

const reg = await fetch(`${base}/oauth/register`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({
    client_name: "Browser test client",
    redirect_uris: [redirectUri],
    grant_types: ["authorization_code", "refresh_token"],
    token_endpoint_auth_method: "none",
  }),
});
check(reg.status === 201, `client registered (HTTP ${reg.status})`);
const client = await reg.json();

const b64url = (buf) => buf.toString("base64").replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const verifier = b64url(randomBytes(48));
const challenge = b64url(createHash("sha256").update(verifier).digest());
const state = b64url(randomBytes(16));
const authorizeUrl = (st) =>
  `${base}/oauth/authorize?` +
  new URLSearchParams({
    response_type: "code",
    client_id: client.client_id,
    redirect_uri: redirectUri,
    state: st,
    code_challenge: challenge,
    code_challenge_method: "S256",
    scope: "repo:read repo:write",
    resource: `${base}/mcp`,
  });

const userDataDir = mkdtempSync(join(tmpdir(), "musehub-oauth-chromium-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 900, height: 900 },
});

try {
  const page = context.pages()[0] || (await context.newPage());
  const problems = [];
  // HTTP errors are checked one by one below (the wrong code's page is a 401 on purpose;
  // chromium asks for /favicon.ico, which the hub does not have); everything else the
  // console reports (a CSP violation above all) is a problem.
  page.on("console", (msg) => {
    const text = msg.text();
    if ((msg.type() === "error" || msg.type() === "warning") && !text.startsWith("Failed to load resource")) {
      problems.push(`console ${msg.type()}: ${text}`);
    }
  });
  page.on("response", (res) => {
    const path = new URL(res.url()).pathname;
    const expected = path === "/favicon.ico" || (path === "/oauth/authorize/consent" && res.status() === 401);
    if (res.status() >= 400 && !expected) problems.push(`HTTP ${res.status()} for ${path}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));

  const response = await page.goto(authorizeUrl(state), { waitUntil: "networkidle" });
  check(response && response.status() === 200, "the authorization request shows the page (200)");
  const headers = response.headers();
  const csp = headers["content-security-policy"] || "";
  check(csp.length > 0 && !csp.includes("unsafe-inline") && !csp.includes("unsafe-eval"), `CSP without unsafe-inline (${csp})`);
  check(csp.includes("frame-ancestors 'none'"), "CSP forbids framing");
  check(headers["x-frame-options"] === "DENY", "X-Frame-Options: DENY");
  check((headers["cache-control"] || "").includes("no-store"), "the page is not cached");
  check((await page.title()).startsWith("Sign in to MuseHub"), `title: ${await page.title()}`);
  check((await page.textContent("#client-name")) === "Browser test client", "the client's name is shown");
  const font = await page.evaluate(() => getComputedStyle(document.body).maxWidth);
  check(font === "640px", `the same-origin stylesheet applies (body max-width ${font})`);
  await page.screenshot({ path: join(outDir, "oauth-consent.png"), fullPage: true });

  // A wrong code: the page again, with the error, still usable.
  await page.fill("#login_code", "WRNG-CODE-XXXX");
  await Promise.all([page.waitForLoadState("networkidle"), page.click("#allow")]);
  check(page.url().startsWith(`${base}/oauth/authorize/consent`), "a wrong code stays on the hub's page");
  check(((await page.textContent(".error")) || "").includes("not accepted"), "the page says the code was not accepted");

  // The right code: back to the client.
  await page.fill("#login_code", loginCode);
  await Promise.all([page.waitForURL(`${redirectUri}*`), page.click("#allow")]);
  const back = callbacks.at(-1);
  check(back && back.pathname === "/callback", "the browser was sent to the client's redirect URI");
  check(back && back.searchParams.get("state") === state, "state echoed");
  check(back && back.searchParams.get("iss") === base, "iss is the hub (RFC 9207)");
  const code = back && back.searchParams.get("code");
  check(!!code, "an authorization code");

  const tokenResponse = await fetch(`${base}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: redirectUri, client_id: client.client_id, code_verifier: verifier }),
  });
  const tokens = await tokenResponse.json();
  check(tokenResponse.status === 200 && tokens.token_type === "Bearer" && !!tokens.access_token && !!tokens.refresh_token, `tokens issued (HTTP ${tokenResponse.status})`);
  check(tokens.scope === "repo:read repo:write", `scopes granted: ${tokens.scope}`);

  check(problems.length === 0, `no console errors or CSP violations${problems.length ? ": " + problems.join("; ") : ""}`);
} finally {
  await context.close();
  callbackServer.close();
  rmSync(userDataDir, { recursive: true, force: true });
}

if (failures.length) {
  console.log(`${failures.length} check(s) failed`);
  process.exit(1);
}
console.log("oauth consent page: all checks passed");
