// Interop tests: the official MCP TypeScript SDK 2.x client (@modelcontextprotocol/client) against
// our conformance server in the envelope era, protocol revision 2026-07-28: server/discover
// negotiation, no handshake and no session, the per-request _meta envelope and Mcp-* headers,
// input_required rounds (MRTR) answered through the client's request handlers, progress and logs
// on the request's own response, and list changes on a subscriptions/listen stream.
//
// The 2.x client negotiates with `versionNegotiation: { mode: 'auto' }` (or `{ pin }`); its
// default is 'legacy'. The 'same script' suite runs one client script in auto, pin and legacy
// mode and checks that all get the same answers, each over its own era's wire.
//
// Run: `node --test modern.test.mjs` in this directory (see ../run.sh).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  Client,
  LOG_LEVEL_META_KEY,
  PROTOCOL_VERSION_META_KEY,
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  SERVER_INFO_META_KEY,
  SUBSCRIPTION_ID_META_KEY,
  StreamableHTTPClientTransport,
} from '@modelcontextprotocol/client';

import {
  EXPECTED_PROMPTS,
  EXPECTED_TOOLS,
  MODERN_VERSION,
  PROTOCOL_VERSION,
  SERVER_NAME,
  TEST_TIMEOUT_MS,
  recordingFetch,
  startServer,
  stopServer,
} from './helpers.mjs';

const T = { timeout: TEST_TIMEOUT_MS };
const EVENT_TIMEOUT_MS = 5_000;
const SIMPLE_TEXT = 'This is a simple text response for testing.';
const NAMED_METHODS = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };
const MODES = {
  auto: { mode: 'auto' },
  pin: { mode: { pin: MODERN_VERSION } },
  legacy: { mode: 'legacy' },
};
const WHO = { username: 'ada', email: 'ada@example.com' };
const PARIS = 'Paris is the capital of France.';

let server; // { proc, url, log: string[] }

before(async () => {
  server = await startServer();
});

after(async () => {
  await stopServer(server);
});

// ---------------------------------------------------------------------------------------------
// Client setup
// ---------------------------------------------------------------------------------------------

/**
 * Connects a 2.x Client over StreamableHTTPClientTransport with a recording fetch.
 * opts.mode: a key of MODES (default 'auto'). opts.elicit / opts.sample / opts.roots: request
 * handlers (their presence declares the capability).
 */
async function connect(opts = {}) {
  const rec = recordingFetch();
  const capabilities = {};
  if (opts.elicit) capabilities.elicitation = { form: {} };
  if (opts.sample) capabilities.sampling = {};
  if (opts.roots) capabilities.roots = {};
  const client = new Client(
    { name: 'musehub-interop-ts2', version: '1.0.0' },
    { capabilities, versionNegotiation: MODES[opts.mode ?? 'auto'] },
  );
  if (opts.elicit) client.setRequestHandler('elicitation/create', opts.elicit);
  if (opts.sample) client.setRequestHandler('sampling/createMessage', opts.sample);
  if (opts.roots) client.setRequestHandler('roots/list', opts.roots);
  const logs = [];
  client.setNotificationHandler('notifications/message', (n) => {
    logs.push(n.params);
  });
  const transport = new StreamableHTTPClientTransport(new URL(server.url), { fetch: rec.fetchImpl });
  await client.connect(transport);
  return { client, transport, rec, logs };
}

async function withClient(opts, fn) {
  const conn = await connect(opts);
  try {
    return await fn(conn);
  } finally {
    await conn.client.close();
  }
}

function onlyText(result) {
  const blocks = result.content ?? result.messages.map((m) => m.content);
  assert.equal(blocks.length, 1, JSON.stringify(result));
  assert.equal(blocks[0].type, 'text');
  return blocks[0].text;
}

/** A promise for the next call of the returned handler, rejected after EVENT_TIMEOUT_MS. */
function nextEvent(what) {
  let resolve;
  const seen = [];
  const promise = new Promise((res, rej) => {
    resolve = res;
    setTimeout(() => rej(new Error(`timed out waiting for ${what}`)), EVENT_TIMEOUT_MS).unref();
  });
  const handler = (n) => {
    seen.push(n);
    resolve(n);
  };
  return { promise, handler, seen };
}

async function waitFor(predicate, what) {
  const deadline = Date.now() + EVENT_TIMEOUT_MS;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const elicitWho = async () => ({ action: 'accept', content: WHO });
const sampleParis = async () => ({
  role: 'assistant',
  content: { type: 'text', text: PARIS },
  model: 'interop-test-model',
  stopReason: 'endTurn',
});

// ---------------------------------------------------------------------------------------------
// Wire checks
// ---------------------------------------------------------------------------------------------

/** Every exchange is an enveloped 2026-07-28 POST with its Mcp-* headers; no handshake, no session. */
function assertModernWire(rec) {
  assert.ok(rec.exchanges.length > 0);
  assert.deepEqual(rec.postsWithMethod('initialize'), [], 'the client sent initialize');
  for (const e of rec.exchanges) {
    assert.equal(e.method, 'POST', `${e.method} ${JSON.stringify(e.body)}`);
    assert.equal(e.headers['mcp-session-id'], undefined);
    assert.equal(e.responseHeaders['mcp-session-id'], undefined);
    assert.equal(e.headers['mcp-protocol-version'], MODERN_VERSION, JSON.stringify(e.body));
    assert.ok(e.body && e.body.method, `client sent a non-request body: ${JSON.stringify(e.body)}`);
    if (e.body.id === undefined) continue; // a notification (the client's listen teardown)
    assert.equal(e.headers['mcp-method'], e.body.method);
    const nameField = NAMED_METHODS[e.body.method];
    if (nameField) assert.equal(e.headers['mcp-name'], e.body.params[nameField]);
    const meta = e.body.params._meta;
    assert.equal(meta[PROTOCOL_VERSION_META_KEY], MODERN_VERSION);
    assert.equal(typeof meta[CLIENT_CAPABILITIES_META_KEY], 'object');
    assert.equal(meta[CLIENT_INFO_META_KEY].name, 'musehub-interop-ts2');
  }
}

function assertLegacyWire(rec) {
  assert.deepEqual(rec.postsWithMethod('server/discover'), []);
  const [init, ...more] = rec.postsWithMethod('initialize');
  assert.equal(more.length, 0);
  assert.equal(init.body.params.protocolVersion, PROTOCOL_VERSION);
  const sid = init.responseHeaders['mcp-session-id'];
  assert.ok(sid, 'initialize response carried no Mcp-Session-Id');
  for (const e of rec.exchanges) {
    if (e === init) continue;
    assert.equal(e.headers['mcp-session-id'], sid, `${e.method} ${JSON.stringify(e.body)}`);
    assert.equal(e.headers['mcp-protocol-version'], PROTOCOL_VERSION);
    assert.equal(e.headers['mcp-method'], undefined);
    assert.equal(e.body?.params?._meta?.[PROTOCOL_VERSION_META_KEY], undefined, 'envelope in a legacy request');
  }
}

/**
 * `calls` are one request driven through `rounds` input rounds: the first carries neither
 * inputResponses nor requestState, every retry carries both with the same name and arguments on
 * a fresh id. Returns the retries' params.
 */
function assertInputRounds(calls, rounds) {
  assert.equal(calls.length, rounds + 1, JSON.stringify(calls.map((c) => c.body)));
  const first = calls[0].body.params;
  assert.equal(first.inputResponses, undefined);
  assert.equal(first.requestState, undefined);
  assert.equal(new Set(calls.map((c) => c.body.id)).size, calls.length, 'a retry reused the JSON-RPC id');
  for (const c of calls) assert.equal(c.status, 200);
  return calls.slice(1).map((c) => {
    const p = c.body.params;
    assert.equal(p.name, first.name);
    assert.deepEqual(p.arguments, first.arguments);
    assert.equal(typeof p.requestState, 'string');
    assert.ok(p.requestState.length > 0);
    assert.equal(typeof p.inputResponses, 'object');
    return p;
  });
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe('negotiation', () => {
  for (const mode of ['auto', 'pin']) {
    it(`${mode} mode: server/discover selects 2026-07-28, no initialize, no session`, T, async () => {
      await withClient({ mode }, async ({ client, rec }) => {
        assert.equal(client.getNegotiatedProtocolVersion(), MODERN_VERSION);
        assert.equal(client.getProtocolEra(), 'modern');
        assert.deepEqual(client.getServerVersion(), { name: SERVER_NAME, version: '1.0.0' });
        const discover = client.getDiscoverResult();
        assert.ok(discover.supportedVersions.includes(MODERN_VERSION));
        assert.equal(discover.capabilities.tools.listChanged, true);
        const caps = client.getServerCapabilities();
        for (const cap of ['tools', 'resources', 'prompts', 'completions']) assert.ok(caps[cap], `capability ${cap}`);
        const result = await client.callTool({ name: 'test_simple_text', arguments: {} });
        assert.equal(onlyText(result), SIMPLE_TEXT);
        assert.equal(result._meta[SERVER_INFO_META_KEY].name, SERVER_NAME);
        const [probe, ...more] = rec.postsWithMethod('server/discover');
        assert.equal(more.length, 0);
        assert.equal(probe.status, 200);
        assertModernWire(rec);
      });
    });
  }
});

describe('same script in auto, pin and legacy mode', () => {
  for (const mode of ['auto', 'pin', 'legacy']) {
    it(mode, T, async () => {
      const elicited = [];
      const sampled = [];
      const changed = nextEvent('notifications/tools/list_changed');
      const out = {};
      await withClient(
        {
          mode,
          elicit: async (req) => {
            elicited.push(req.params);
            return { action: 'accept', content: WHO };
          },
          sample: async (req) => {
            sampled.push(req.params);
            return sampleParis();
          },
        },
        async ({ client, rec, logs }) => {
          client.setNotificationHandler('notifications/tools/list_changed', changed.handler);
          out.version = client.getNegotiatedProtocolVersion();
          out.tools = (await client.listTools()).tools.map((t) => t.name).sort();
          out.prompts = (await client.listPrompts()).prompts.map((p) => p.name).sort();
          out.simple = onlyText(await client.callTool({ name: 'test_simple_text', arguments: {} }));
          out.elicitation = onlyText(
            await client.callTool({ name: 'test_elicitation', arguments: { message: 'Who are you?' } }),
          );
          out.sampling = onlyText(
            await client.callTool({ name: 'test_sampling', arguments: { prompt: 'What is the capital of France?' } }),
          );
          const progress = [];
          out.progressResult = onlyText(
            await client.callTool(
              { name: 'test_tool_with_progress', arguments: {} },
              { onprogress: (p) => progress.push(p) },
            ),
          );
          out.progress = progress;
          // Modern: the request opts in to logs with _meta logLevel. Legacy: logs flow by default.
          out.loggingResult = onlyText(
            await client.callTool({
              name: 'test_tool_with_logging',
              arguments: {},
              _meta: { [LOG_LEVEL_META_KEY]: 'info' },
            }),
          );
          out.logs = logs.map((l) => [l.level, l.data]);

          if (mode === 'legacy') {
            // Handshake era: list changes arrive on the session's GET stream.
            await waitFor(() => rec.exchanges.some((e) => e.method === 'GET' && e.status === 200), 'the GET stream');
            out.trigger = onlyText(await client.callTool({ name: 'test_trigger_tool_change', arguments: {} }));
            await changed.promise;
          } else {
            const sub = await client.listen({ toolsListChanged: true });
            assert.deepEqual(sub.honoredFilter, { toolsListChanged: true });
            out.trigger = onlyText(await client.callTool({ name: 'test_trigger_tool_change', arguments: {} }));
            const note = await changed.promise;
            const [listen] = rec.postsWithMethod('subscriptions/listen');
            assert.equal(note.params._meta[SUBSCRIPTION_ID_META_KEY], listen.body.id);
            await sub.close();
            assert.equal(await sub.closed, 'local');
          }

          // The same answers in every mode ...
          assert.deepEqual(out.tools, EXPECTED_TOOLS);
          assert.deepEqual(out.prompts, EXPECTED_PROMPTS);
          assert.equal(out.simple, SIMPLE_TEXT);
          const prefix = 'User response: action=accept, content=';
          assert.ok(out.elicitation.startsWith(prefix), out.elicitation);
          assert.deepEqual(JSON.parse(out.elicitation.slice(prefix.length)), WHO);
          assert.equal(elicited.length, 1);
          assert.equal(elicited[0].message, 'Who are you?');
          assert.deepEqual(Object.keys(elicited[0].requestedSchema.properties).sort(), ['email', 'username']);
          assert.equal(out.sampling, `LLM response: ${PARIS}`);
          assert.equal(sampled.length, 1);
          assert.deepEqual(sampled[0].messages, [
            { role: 'user', content: { type: 'text', text: 'What is the capital of France?' } },
          ]);
          assert.equal(sampled[0].maxTokens, 100);
          assert.deepEqual(
            out.progress,
            [0, 50, 100].map((p) => ({ progress: p, total: 100, message: `Completed step ${p} of 100` })),
          );
          const [progressCall] = rec.toolCalls('test_tool_with_progress');
          assert.equal(out.progressResult, String(progressCall.body.params._meta.progressToken));
          assert.equal(out.loggingResult, 'Tool with logging executed successfully');
          assert.deepEqual(out.logs, [
            ['info', 'Tool execution started'],
            ['info', 'Tool processing data'],
            ['info', 'Tool execution completed'],
          ]);
          assert.equal(out.trigger, 'Sent notifications/tools/list_changed');

          // ... each over its own era's wire.
          if (mode === 'legacy') {
            assert.equal(out.version, PROTOCOL_VERSION);
            assert.equal(client.getProtocolEra(), 'legacy');
            assertLegacyWire(rec);
            assert.equal(rec.toolCalls('test_elicitation').length, 1);
            assert.equal(rec.toolCalls('test_sampling').length, 1);
            // Elicitation and sampling were server requests; the client POSTed one response each.
            const answers = rec.exchanges.filter((e) => e.method === 'POST' && e.body && e.body.result !== undefined);
            assert.equal(answers.length, 2, JSON.stringify(answers.map((a) => a.body)));
          } else {
            assert.equal(out.version, MODERN_VERSION);
            assertModernWire(rec);
            const [elicitRetry] = assertInputRounds(rec.toolCalls('test_elicitation'), 1);
            assert.deepEqual(Object.values(elicitRetry.inputResponses), [{ action: 'accept', content: WHO }]);
            const [samplingRetry] = assertInputRounds(rec.toolCalls('test_sampling'), 1);
            assert.deepEqual(Object.values(samplingRetry.inputResponses)[0].content, { type: 'text', text: PARIS });
            assert.match(progressCall.responseHeaders['content-type'], /^text\/event-stream/);
            const [logCall] = rec.toolCalls('test_tool_with_logging');
            assert.equal(logCall.body.params._meta[LOG_LEVEL_META_KEY], 'info');
          }
        },
      );
    });
  }
});

describe('input-required rounds', () => {
  it('elicitation: test_input_required_result_elicitation', T, async () => {
    const seen = [];
    const elicit = async (req) => {
      seen.push(req.params);
      return { action: 'accept', content: { name: 'Ada' } };
    };
    await withClient({ elicit }, async ({ client, rec }) => {
      const result = await client.callTool({ name: 'test_input_required_result_elicitation', arguments: {} });
      assert.notEqual(result.isError, true);
      assert.equal(onlyText(result), 'Hello, Ada!');
      assert.equal(seen.length, 1);
      assert.equal(seen[0].message, 'What is your name?');
      assert.deepEqual(seen[0].requestedSchema, {
        type: 'object',
        properties: { name: { type: 'string' } },
        required: ['name'],
      });
      const [retry] = assertInputRounds(rec.toolCalls('test_input_required_result_elicitation'), 1);
      assert.deepEqual(retry.inputResponses, { user_name: { action: 'accept', content: { name: 'Ada' } } });
      assertModernWire(rec);
    });
  });

  it('elicitation declined', T, async () => {
    await withClient({ elicit: async () => ({ action: 'decline' }) }, async ({ client }) => {
      const result = await client.callTool({ name: 'test_elicitation', arguments: { message: 'Who are you?' } });
      assert.equal(onlyText(result), 'User response: action=decline, content={}');
    });
  });

  it('two rounds: test_input_required_result_multi_round', T, async () => {
    const messages = [];
    const elicit = async (req) => {
      messages.push(req.params.message);
      return { action: 'accept', content: req.params.message.includes('color') ? { color: 'blue' } : { name: 'Ada' } };
    };
    await withClient({ elicit }, async ({ client, rec }) => {
      const result = await client.callTool({ name: 'test_input_required_result_multi_round', arguments: {} });
      assert.equal(onlyText(result), 'Multi-round complete: name=Ada, color=blue');
      assert.deepEqual(messages, ['Step 1: What is your name?', 'Step 2: What is your favorite color?']);
      const [first, second] = assertInputRounds(rec.toolCalls('test_input_required_result_multi_round'), 2);
      assert.deepEqual(first.inputResponses, { step1: { action: 'accept', content: { name: 'Ada' } } });
      assert.deepEqual(second.inputResponses, { step2: { action: 'accept', content: { color: 'blue' } } });
      assert.notEqual(first.requestState, second.requestState);
    });
  });

  it('sampling: test_input_required_result_sampling', T, async () => {
    const seen = [];
    const sample = async (req) => {
      seen.push(req.params);
      return sampleParis();
    };
    await withClient({ sample }, async ({ client, rec }) => {
      const result = await client.callTool({ name: 'test_input_required_result_sampling', arguments: {} });
      assert.equal(onlyText(result), `LLM response: ${PARIS}`);
      assert.deepEqual(seen[0].messages, [
        { role: 'user', content: { type: 'text', text: 'What is the capital of France?' } },
      ]);
      assert.equal(seen[0].maxTokens, 100);
      const [retry] = assertInputRounds(rec.toolCalls('test_input_required_result_sampling'), 1);
      assert.deepEqual(Object.keys(retry.inputResponses), ['capital_question']);
    });
  });

  it('roots: test_input_required_result_list_roots', T, async () => {
    const roots = async () => ({ roots: [{ uri: 'file:///work/a', name: 'a' }, { uri: 'file:///work/b' }] });
    await withClient({ roots }, async ({ client }) => {
      const result = await client.callTool({ name: 'test_input_required_result_list_roots', arguments: {} });
      assert.equal(onlyText(result), 'Client roots: file:///work/a, file:///work/b');
    });
  });

  it('three inputs in one round: test_input_required_result_multiple_inputs', T, async () => {
    const roots = async () => ({ roots: [{ uri: 'file:///work/a' }, { uri: 'file:///work/b' }] });
    await withClient(
      { elicit: async () => ({ action: 'accept', content: { name: 'Ada' } }), sample: sampleParis, roots },
      async ({ client, rec }) => {
        const result = await client.callTool({ name: 'test_input_required_result_multiple_inputs', arguments: {} });
        assert.equal(onlyText(result), `Name: Ada; Greeting: ${PARIS}; Roots: 2`);
        const [retry] = assertInputRounds(rec.toolCalls('test_input_required_result_multiple_inputs'), 1);
        assert.deepEqual(Object.keys(retry.inputResponses).sort(), ['client_roots', 'greeting', 'user_name']);
      },
    );
  });

  it('prompts/get: test_input_required_result_prompt', T, async () => {
    const elicit = async () => ({ action: 'accept', content: { context: 'interop' } });
    await withClient({ elicit }, async ({ client, rec }) => {
      const result = await client.getPrompt({ name: 'test_input_required_result_prompt' });
      assert.equal(result.description, 'Prompt rendered with elicited context');
      assert.deepEqual(result.messages, [
        { role: 'user', content: { type: 'text', text: 'Use this context: interop' } },
      ]);
      const [retry] = assertInputRounds(rec.postsWithMethod('prompts/get'), 1);
      assert.deepEqual(retry.inputResponses, { user_context: { action: 'accept', content: { context: 'interop' } } });
    });
  });

  it('an undeclared capability is -32021 with HTTP 400', T, async () => {
    await withClient({}, async ({ client, rec }) => {
      await assert.rejects(client.callTool({ name: 'test_elicitation', arguments: { message: 'x' } }), (err) => {
        assert.equal(err.code, -32021, err.message);
        assert.deepEqual(err.data, { requiredCapabilities: { elicitation: {} } });
        return true;
      });
      await assert.rejects(client.callTool({ name: 'test_missing_capability', arguments: {} }), (err) => {
        assert.equal(err.code, -32021, err.message);
        assert.deepEqual(err.data, { requiredCapabilities: { sampling: {} } });
        return true;
      });
      for (const name of ['test_elicitation', 'test_missing_capability']) {
        const [call] = rec.toolCalls(name);
        assert.equal(call.status, 400);
      }
    });
  });
});

describe('progress and logging', () => {
  it('progress via onprogress on the call\'s SSE response', T, async () => {
    await withClient({}, async ({ client, rec }) => {
      const updates = [];
      const result = await client.callTool(
        { name: 'test_tool_with_progress', arguments: {} },
        { onprogress: (p) => updates.push(p) },
      );
      assert.deepEqual(
        updates,
        [0, 50, 100].map((p) => ({ progress: p, total: 100, message: `Completed step ${p} of 100` })),
      );
      const [call] = rec.toolCalls('test_tool_with_progress');
      assert.equal(onlyText(result), String(call.body.params._meta.progressToken));
      assert.match(call.responseHeaders['content-type'], /^text\/event-stream/);
    });
  });

  for (const [level, expected] of [
    [undefined, []],
    ['warning', []],
    ['info', ['Logging tool started', 'Logging tool finished']],
    ['debug', ['Logging tool started', 'Logging tool finished']],
  ]) {
    it(`logs only when _meta logLevel asks (${level ?? 'none'})`, T, async () => {
      await withClient({}, async ({ client, rec, logs }) => {
        const params = { name: 'test_logging_tool', arguments: {} };
        if (level) params._meta = { [LOG_LEVEL_META_KEY]: level };
        const result = await client.callTool(params);
        assert.equal(onlyText(result), 'Logging tool executed');
        assert.deepEqual(
          logs.map((l) => [l.level, l.data]),
          expected.map((d) => ['info', d]),
        );
        const [call] = rec.toolCalls('test_logging_tool');
        assert.equal(call.body.params._meta[LOG_LEVEL_META_KEY], level);
      });
    });
  }
});

describe('subscriptions/listen', () => {
  it('delivers tools/list_changed tagged with the subscription id, and nothing not opted in to', T, async () => {
    await withClient({}, async ({ client, rec }) => {
      const tools = nextEvent('notifications/tools/list_changed');
      const prompts = [];
      client.setNotificationHandler('notifications/tools/list_changed', tools.handler);
      client.setNotificationHandler('notifications/prompts/list_changed', (n) => prompts.push(n));
      const sub = await client.listen({ toolsListChanged: true });
      assert.deepEqual(sub.honoredFilter, { toolsListChanged: true });
      // Not opted in to prompts: that change must not arrive (the stream is ordered, so it
      // would arrive before the tools change triggered after it).
      await client.callTool({ name: 'test_trigger_prompt_change', arguments: {} });
      const trigger = await client.callTool({ name: 'test_trigger_tool_change', arguments: {} });
      assert.equal(onlyText(trigger), 'Sent notifications/tools/list_changed');
      const note = await tools.promise;
      const [listen, ...more] = rec.postsWithMethod('subscriptions/listen');
      assert.equal(more.length, 0);
      assert.equal(listen.headers['mcp-method'], 'subscriptions/listen');
      assert.match(listen.responseHeaders['content-type'], /^text\/event-stream/);
      assert.deepEqual(listen.body.params.notifications, { toolsListChanged: true });
      assert.deepEqual(note, {
        method: 'notifications/tools/list_changed',
        params: { _meta: { [SUBSCRIPTION_ID_META_KEY]: listen.body.id } },
      });
      assert.deepEqual(prompts, []);
      await sub.close();
      assert.equal(await sub.closed, 'local');
      assertModernWire(rec);
    });
  });
});

describe('header parameters', () => {
  it('x-mcp-header: a missing Mcp-Param-Region is -32020, the client re-lists and resends', T, async () => {
    await withClient({}, async ({ client, rec }) => {
      const result = await client.callTool({ name: 'test_header_param', arguments: { region: 'eu-west' } });
      assert.equal(onlyText(result), 'Region: eu-west');
      const [first, second, ...more] = rec.toolCalls('test_header_param');
      assert.equal(more.length, 0);
      assert.equal(first.status, 400);
      assert.equal(first.headers['mcp-param-region'], undefined);
      assert.equal(second.status, 200);
      assert.equal(second.headers['mcp-param-region'], 'eu-west');
      const { tools } = await client.listTools();
      const tool = tools.find((t) => t.name === 'test_header_param');
      assert.equal(tool.inputSchema.properties.region['x-mcp-header'], 'Region');
    });
  });
});

describe('errors', () => {
  it('resource not found is -32602 in this era', T, async () => {
    await withClient({}, async ({ client }) => {
      await assert.rejects(client.readResource({ uri: 'test://does-not-exist' }), (err) => {
        assert.equal(err.code, -32602, err.message);
        return true;
      });
    });
  });
});
