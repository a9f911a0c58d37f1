// Shared by the TypeScript interop test files: the conformance server process, a recording
// fetch, and the fixture names. Each test file runs in its own process (node --test) and starts
// its own server.

import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(process.env.MUSEHUB_CONFORMANCE_BIN || path.join(HERE, '..', '..', '..', 'target', 'debug', 'conformance'));

export const SERVER_NAME = 'mcp-conformance-test-server';
export const PROTOCOL_VERSION = '2025-11-25';
export const MODERN_VERSION = '2026-07-28';
export const TEST_TIMEOUT_MS = 30_000;

// Every tool of examples/src/bin/conformance.rs (both eras list the same ones), sorted.
export const EXPECTED_TOOLS = [
  'json_schema_2020_12_tool',
  'test_audio_content',
  'test_elicitation',
  'test_elicitation_sep1034_defaults',
  'test_elicitation_sep1330_enums',
  'test_embedded_resource',
  'test_error_handling',
  'test_header_param',
  'test_image_content',
  'test_input_required_result_capabilities',
  'test_input_required_result_elicitation',
  'test_input_required_result_list_roots',
  'test_input_required_result_multi_round',
  'test_input_required_result_multiple_inputs',
  'test_input_required_result_request_state',
  'test_input_required_result_sampling',
  'test_input_required_result_tampered_state',
  'test_logging_tool',
  'test_missing_capability',
  'test_multiple_content_types',
  'test_reconnection',
  'test_sampling',
  'test_simple_text',
  'test_streaming_elicitation',
  'test_tool_with_logging',
  'test_tool_with_progress',
  'test_trigger_prompt_change',
  'test_trigger_tool_change',
];
export const EXPECTED_PROMPTS = [
  'test_input_required_result_prompt',
  'test_prompt_with_arguments',
  'test_prompt_with_embedded_resource',
  'test_prompt_with_image',
  'test_simple_prompt',
];

// ---------------------------------------------------------------------------------------------
// Server process
// ---------------------------------------------------------------------------------------------

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

function canConnect(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/** Starts the conformance server on a free loopback port: { proc, url, log: string[] }. */
export async function startServer() {
  try {
    accessSync(BIN, fsConstants.X_OK);
  } catch {
    throw new Error(
      `conformance server binary not found or not executable: ${BIN} ` +
        '(build it with `cargo build -p musehub-examples --bin conformance` or set MUSEHUB_CONFORMANCE_BIN)',
    );
  }
  const log = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const proc = spawn(BIN, ['--bind', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let exited = false;
    proc.once('exit', () => {
      exited = true;
    });
    proc.stdout.on('data', (d) => log.push(String(d)));
    proc.stderr.on('data', (d) => log.push(String(d)));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !exited) {
      if (await canConnect(port)) return { proc, url: `http://127.0.0.1:${port}/mcp`, log };
      await sleep(50);
    }
    proc.kill('SIGKILL');
  }
  throw new Error(`conformance server did not start; log:\n${log.join('')}`);
}

export async function stopServer(server) {
  if (!server) return;
  const { proc } = server;
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------
// Recording fetch
// ---------------------------------------------------------------------------------------------

/** Wraps fetch and records every request the SDK transport makes. */
export function recordingFetch() {
  const exchanges = [];
  const fetchImpl = async (url, init = {}) => {
    const headers = Object.fromEntries(new Headers(init.headers ?? {}));
    let body;
    if (typeof init.body === 'string') {
      try {
        body = JSON.parse(init.body);
      } catch {
        body = init.body;
      }
    }
    const ex = { method: (init.method ?? 'GET').toUpperCase(), headers, body, status: undefined, responseHeaders: {} };
    exchanges.push(ex);
    const res = await fetch(url, init);
    ex.status = res.status;
    ex.responseHeaders = Object.fromEntries(res.headers);
    return res;
  };
  const postsWithMethod = (m) => exchanges.filter((e) => e.method === 'POST' && e.body && e.body.method === m);
  const toolCalls = (name) => postsWithMethod('tools/call').filter((e) => e.body.params.name === name);
  return { fetchImpl, exchanges, postsWithMethod, toolCalls };
}
