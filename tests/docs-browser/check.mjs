// Loads a server's /mcp/docs in Debian's headless chromium and checks what a person would:
// no console errors or failed requests, nothing fetched from another origin, the counts shown
// equal the manifest's (and so the registry's), every item has its anchor, the endpoint shows
// the page's own origin, the filter narrows the list and clears, a copy button copies its
// snippet; then writes screenshots (desktop light, phone dark).
//
// Usage: node check.mjs BASE_URL SCREENSHOT_DIR
import { mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, outDir] = process.argv.slice(2);
if (!base || !outDir) {
  console.error("usage: node check.mjs BASE_URL SCREENSHOT_DIR");
  process.exit(2);
}
const origin = new URL(base).origin;
mkdirSync(outDir, { recursive: true });

const failures = [];
function check(ok, message) {
  if (ok) {
    console.log(`  ok   ${message}`);
  } else {
    console.log(`  FAIL ${message}`);
    failures.push(message);
  }
}

const manifestResponse = await fetch(`${base}/mcp/docs.json`);
if (!manifestResponse.ok) throw new Error(`docs.json: HTTP ${manifestResponse.status}`);
const manifest = await manifestResponse.json();
console.log(`manifest of ${manifest.server.name}: ${JSON.stringify(manifest.counts)}`);

const userDataDir = mkdtempSync(join(tmpdir(), "musehub-docs-chromium-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
  viewport: { width: 1280, height: 860 },
  colorScheme: "light",
});

try {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin });
  const page = context.pages()[0] || (await context.newPage());
  const problems = [];
  const foreign = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warning") problems.push(`console ${msg.type()}: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("requestfailed", (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));
  page.on("response", (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.url()}`);
  });
  page.on("request", (req) => {
    const url = req.url();
    if (!url.startsWith(origin) && !url.startsWith("data:")) foreign.push(url);
  });

  console.log("== desktop, light");
  const response = await page.goto(`${base}/mcp/docs`, { waitUntil: "networkidle" });
  check(response && response.status() === 200, "GET /mcp/docs is 200");
  const csp = response.headers()["content-security-policy"] || "";
  check(csp.includes("script-src 'self'") && !csp.includes("unsafe-inline"), `CSP without unsafe-inline (${csp})`);

  const title = await page.title();
  const expectedTitle = manifest.server.title || manifest.server.name;
  check(title.startsWith(expectedTitle), `title shows the server's own name: "${title}"`);

  const shown = await page.$$eval("[data-count]", (els) =>
    Object.fromEntries(els.map((e) => [e.dataset.count, Number(e.textContent.trim())])),
  );
  for (const key of ["tools", "resources", "resourceTemplates", "prompts"]) {
    check(shown[key] === manifest.counts[key], `${key}: page shows ${shown[key]}, manifest has ${manifest.counts[key]}`);
  }
  const kinds = { tool: "tools", resource: "resources", resourceTemplate: "resourceTemplates", prompt: "prompts" };
  for (const [kind, key] of Object.entries(kinds)) {
    const n = await page.locator(`.item[data-kind="${kind}"]`).count();
    check(n === manifest[key].length, `${n} ${kind} entries rendered for ${manifest[key].length} in docs.json`);
  }
  for (const tool of manifest.tools) {
    const anchor = page.locator(`[id="tool-${tool.name}"]`);
    check((await anchor.count()) === 1, `anchor #tool-${tool.name}`);
  }
  const groups = await page.$$eval("#tools section.group .group-title", (els) =>
    els.map((e) => e.firstChild.textContent.trim()),
  );
  check(
    JSON.stringify(groups) === JSON.stringify(manifest.categories.map((c) => c.title)),
    `tool groups in manifest order: ${groups.join(", ")}`,
  );
  const endpoint = (await page.locator("#endpoint").textContent()).trim();
  check(endpoint === `${origin}/mcp`, `endpoint shows the page's origin: ${endpoint}`);

  await page.screenshot({ path: join(outDir, "docs-screenshot.png"), fullPage: true });
  await page.screenshot({ path: join(outDir, "docs-screenshot-top.png"), fullPage: false });

  console.log("== copy button");
  const firstTool = manifest.tools[0];
  if (firstTool) {
    const button = page.locator(`[data-copy="tool-${firstTool.name}-request"]`);
    await button.click();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    let parsed = null;
    try {
      parsed = JSON.parse(copied);
    } catch (e) {
      parsed = null;
    }
    check(
      parsed && parsed.method === "tools/call" && parsed.params.name === firstTool.name,
      `copy button copies a tools/call request for ${firstTool.name}`,
    );
    check((await button.textContent()).trim() === "Copied", "the button confirms the copy");
  }

  console.log("== filter");
  const total = await page.locator(".item").count();
  const visible = () => page.locator(".item:visible").count();
  check((await visible()) === total, `all ${total} items visible before filtering`);
  const target = manifest.tools.find((t) => t.name === "add") || manifest.tools[0];
  await page.locator("#filter").fill(target.name);
  const narrowed = await visible();
  check(narrowed >= 1 && narrowed < total, `filter "${target.name}" narrows ${total} items to ${narrowed}`);
  check(await page.locator(`[id="tool-${target.name}"]`).isVisible(), `#tool-${target.name} stays visible`);
  const status = (await page.locator("#filter-status").textContent()).trim();
  check(status === `${narrowed} of ${total} items match`, `status says "${status}"`);
  check(page.url().includes(`q=${encodeURIComponent(target.name)}`), "the query is kept in the URL");
  // By description words, not only names.
  const descWord = (target.definition.description.split(/\s+/).find((w) => w.length > 4) || target.name).toLowerCase().replace(/[^a-z0-9]/g, "");
  await page.locator("#filter").fill(descWord);
  check(await page.locator(`[id="tool-${target.name}"]`).isVisible(), `description word "${descWord}" finds ${target.name}`);
  await page.locator("#filter").fill("zz-no-such-thing-zz");
  check((await visible()) === 0, "a query matching nothing hides every item");
  check(await page.locator("#no-match").isVisible(), "and says nothing matches");
  await page.locator("#filter").press("Escape");
  check((await visible()) === total, "Escape clears the filter");

  console.log("== phone, dark");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto(`${base}/mcp/docs`, { waitUntil: "networkidle" });
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  check(bg !== "rgb(247, 247, 251)" && bg !== "rgb(255, 255, 255)", `dark background (${bg})`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `no horizontal scrolling on a phone (overflow ${overflow}px)`);
  await page.screenshot({ path: join(outDir, "docs-screenshot-mobile-dark.png"), fullPage: false });
  if (manifest.tools.length) {
    const last = manifest.tools[manifest.tools.length - 1];
    await page.locator(`[id="tool-${last.name}"]`).screenshot({ path: join(outDir, "docs-screenshot-mobile-tool.png") });
  }

  check(problems.length === 0, `no console errors, failed requests or HTTP errors${problems.length ? ": " + problems.join("; ") : ""}`);
  check(foreign.length === 0, `nothing loaded from another origin${foreign.length ? ": " + foreign.join(", ") : ""}`);
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}

if (failures.length) {
  console.log(`\n${failures.length} check(s) failed`);
  process.exit(1);
}
console.log(`\nall checks passed; screenshots in ${outDir}`);
