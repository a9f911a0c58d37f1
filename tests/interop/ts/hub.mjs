// The musehub-server process for the TypeScript interop tests that need the real hub
// (bearer.test.mjs): a fresh SQLite database in a temp dir, a free loopback port, and the
// admin subcommands (`tokens create|list|revoke`, `login-code`) run on the same database.
//
// The binary comes from MUSEHUB_SERVER_BIN (default: ../../../target/debug/musehub-server
// relative to this file; build it with `cargo build -p musehub-server`).

import { execFile, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const HUB_BIN = path.resolve(
  process.env.MUSEHUB_SERVER_BIN || path.join(HERE, '..', '..', '..', 'target', 'debug', 'musehub-server'),
);
const run = promisify(execFile);

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function ready(base) {
  try {
    const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(1_000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

function killed(proc) {
  return proc.exitCode !== null || proc.signalCode !== null;
}

// Servers still running and temp dirs not yet removed. If this test process ends without
// after() (an interrupted run: exit, Ctrl-C, the runner's SIGTERM), they are killed and removed
// rather than left behind; the signal is then raised again so the process ends as it would have.
const live = new Set();
const dirs = new Set();
function reapAll() {
  for (const proc of live) if (!killed(proc)) proc.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
process.once('exit', reapAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    reapAll();
    process.kill(process.pid, sig);
  });
}

/**
 * Starts musehub-server on a fresh SQLite file and a free loopback port and waits for /readyz.
 * Returns { proc, base, url, dbUrl, dir, log: string[] } (url is the /mcp endpoint, base the
 * hub's public base URL, which is also the OAuth issuer).
 */
export async function startHub() {
  try {
    accessSync(HUB_BIN, fsConstants.X_OK);
  } catch {
    throw new Error(
      `musehub-server binary not found or not executable: ${HUB_BIN} ` +
        '(build it with `cargo build -p musehub-server` or set MUSEHUB_SERVER_BIN)',
    );
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'musehub-interop-ts-'));
  dirs.add(dir);
  const dbUrl = `sqlite://${path.join(dir, 'hub.db')}`;
  const log = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const proc = spawn(HUB_BIN, ['--bind', `127.0.0.1:${port}`, '--database-url', dbUrl, '--no-rate-limits'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout.on('data', (d) => log.push(String(d)));
    proc.stderr.on('data', (d) => log.push(String(d)));
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !killed(proc)) {
      if (await ready(base)) return { proc, base, url: `${base}/mcp`, dbUrl, dir, log };
      await sleep(100);
    }
    await stopProc(proc);
  }
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
  throw new Error(`musehub-server did not become ready; log:\n${log.join('')}`);
}

async function stopProc(proc) {
  if (killed(proc)) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Stops the server and removes its temp dir (database, objects). */
export async function stopHub(hub) {
  if (!hub) return;
  await stopProc(hub.proc);
  rmSync(hub.dir, { recursive: true, force: true });
  dirs.delete(hub.dir);
}

/** Runs `musehub-server ARGS... --database-url <the hub's>` and returns its trimmed stdout. */
export async function hubCli(hub, args) {
  const { stdout } = await run(HUB_BIN, [...args, '--database-url', hub.dbUrl], { timeout: 30_000 });
  return stdout.trim();
}

/** Mints an agent token (`mha_…`) for `handle` with the given space-separated scopes. */
export async function mintToken(hub, { handle, agent, scopes }) {
  const token = await hubCli(hub, ['tokens', 'create', '--handle', handle, '--agent', agent, '--scopes', scopes, '--quiet']);
  if (!/^mha_[0-9A-Za-z_-]+$/.test(token)) throw new Error(`tokens create printed ${JSON.stringify(token)}`);
  return token;
}

/** The handle's agent tokens as `tokens list --json` prints them. */
export async function listTokens(hub, handle) {
  return JSON.parse(await hubCli(hub, ['tokens', 'list', '--handle', handle, '--json']));
}

export async function revokeToken(hub, { handle, id }) {
  await hubCli(hub, ['tokens', 'revoke', '--handle', handle, '--id', id]);
}

/** A one-time sign-in code for the OAuth consent page, as the operator's CLI prints it. */
export async function loginCode(hub, handle) {
  const code = await hubCli(hub, ['login-code', '--handle', handle]);
  if (!code || /\s/.test(code)) throw new Error(`login-code printed ${JSON.stringify(code)}`);
  return code;
}
