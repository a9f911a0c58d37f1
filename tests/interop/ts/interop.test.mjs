// Interop tests: the official MCP TypeScript SDK 1.x client (@modelcontextprotocol/sdk) against
// our conformance server (examples/src/bin/conformance.rs, the fixtures of the official MCP
// conformance suite), in the handshake era (initialize + Mcp-Session-Id, 2025-11-25). The 1.x
// client only speaks that era; the 2026-07-28 era is covered with the 2.x client in
// modern.test.mjs.
//
// The server binary comes from MUSEHUB_CONFORMANCE_BIN (default: ../../../target/debug/conformance
// relative to this file); it is started on a free loopback port and killed at the end.
//
// Run: `node --test interop.test.mjs` in this directory (see ../run.sh).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';

import {
  EXPECTED_PROMPTS,
  EXPECTED_TOOLS,
  PROTOCOL_VERSION,
  SERVER_NAME,
  TEST_TIMEOUT_MS,
  recordingFetch,
  startServer,
  stopServer,
} from './helpers.mjs';

const PNG_B64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const WAV_B64 = 'UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=';
const RECONNECTION_TEXT =
  'Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.';

let server; // { proc, url, log: string[] }

// ---------------------------------------------------------------------------------------------
// SDK client with an HTTP recorder
// ---------------------------------------------------------------------------------------------

/**
 * Connects an SDK Client over StreamableHTTPClientTransport.
 * opts.elicit / opts.sample: handlers (their presence declares the capability).
 */
async function connect(opts = {}) {
  const rec = recordingFetch();
  const capabilities = {};
  if (opts.elicit) capabilities.elicitation = { form: {} };
  if (opts.sample) capabilities.sampling = {};
  const client = new Client({ name: 'musehub-interop-ts', version: '1.0.0' }, { capabilities });
  if (opts.elicit) client.setRequestHandler(ElicitRequestSchema, opts.elicit);
  if (opts.sample) client.setRequestHandler(CreateMessageRequestSchema, opts.sample);
  const logs = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    logs.push(n.params);
  });
  const transport = new StreamableHTTPClientTransport(new URL(server.url), { fetch: rec.fetchImpl });
  await client.connect(transport);
  return { client, transport, rec, logs };
}

/** Runs `fn` with a fresh connection and always closes it. */
async function withClient(opts, fn) {
  const conn = await connect(opts);
  try {
    return await fn(conn);
  } finally {
    await conn.client.close();
  }
}

function onlyText(result) {
  assert.equal(result.content.length, 1, JSON.stringify(result));
  assert.equal(result.content[0].type, 'text');
  return result.content[0].text;
}

async function rejectsWithCode(promise, code) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof McpError, `expected McpError, got ${err}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

before(async () => {
  server = await startServer();
});

after(async () => {
  await stopServer(server);
});

const T = { timeout: TEST_TIMEOUT_MS };

describe('lifecycle', () => {
  it('initializes with 2025-11-25 and sends session headers afterwards', T, async () => {
    await withClient({}, async ({ client, transport, rec }) => {
      assert.equal(transport.protocolVersion, PROTOCOL_VERSION);
      assert.deepEqual(client.getServerVersion(), { name: SERVER_NAME, version: '1.0.0' });
      const caps = client.getServerCapabilities();
      for (const cap of ['tools', 'resources', 'prompts', 'logging', 'completions']) {
        assert.ok(caps[cap], `server capability ${cap} missing`);
      }
      await client.listTools();

      const [init, ...more] = rec.postsWithMethod('initialize');
      assert.equal(more.length, 0);
      assert.equal(init.status, 200);
      assert.equal(init.body.params.protocolVersion, PROTOCOL_VERSION);
      const sid = init.responseHeaders['mcp-session-id'];
      assert.ok(sid, 'initialize response carried no Mcp-Session-Id');
      assert.equal(transport.sessionId, sid);

      const [initialized] = rec.postsWithMethod('notifications/initialized');
      assert.equal(initialized.status, 202);
      const [list] = rec.postsWithMethod('tools/list');
      assert.equal(list.headers['mcp-session-id'], sid);
      assert.equal(list.headers['mcp-protocol-version'], PROTOCOL_VERSION);
    });
  });

  it('ping', T, async () => {
    await withClient({}, async ({ client }) => {
      assert.deepEqual(await client.ping(), {});
    });
  });

  it('terminateSession() sends DELETE; the old session id then gets 404', T, async () => {
    const { client, transport, rec } = await connect();
    let sid;
    try {
      await client.listTools();
      sid = transport.sessionId;
      assert.ok(sid);
      await transport.terminateSession();
      assert.equal(transport.sessionId, undefined);
    } finally {
      await client.close();
    }
    const deletes = rec.exchanges.filter((e) => e.method === 'DELETE');
    assert.equal(deletes.length, 1);
    assert.equal(deletes[0].headers['mcp-session-id'], sid);
    assert.equal(deletes[0].status, 200);

    const res = await fetch(server.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sid,
        'mcp-protocol-version': PROTOCOL_VERSION,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(res.status, 404, await res.text());
  });
});

describe('tools', () => {
  it('lists the fixture tools', T, async () => {
    await withClient({}, async ({ client }) => {
      const { tools, nextCursor } = await client.listTools();
      assert.equal(nextCursor, undefined);
      assert.deepEqual(tools.map((t) => t.name).sort(), EXPECTED_TOOLS);
      const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
      assert.equal(byName.test_simple_text.description, 'Tests simple text content response');
      assert.equal(byName.test_simple_text.inputSchema.type, 'object');
      assert.equal(byName.test_simple_text.annotations?.readOnlyHint, true);
      assert.deepEqual(byName.test_sampling.inputSchema.required, ['prompt']);
      assert.deepEqual(byName.test_elicitation.inputSchema.required, ['message']);
      const schema = byName.json_schema_2020_12_tool.inputSchema;
      assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
      assert.equal(schema.$defs.address.$anchor, 'addressDef');
      assert.deepEqual(schema.properties.address, { $ref: '#/$defs/address' });
      assert.equal(schema.additionalProperties, false);
    });
  });

  it('test_simple_text', T, async () => {
    await withClient({}, async ({ client }) => {
      const result = await client.callTool({ name: 'test_simple_text', arguments: {} });
      assert.notEqual(result.isError, true);
      assert.equal(onlyText(result), 'This is a simple text response for testing.');
    });
  });

  it('test_error_handling returns isError', T, async () => {
    await withClient({}, async ({ client }) => {
      const result = await client.callTool({ name: 'test_error_handling', arguments: {} });
      assert.equal(result.isError, true);
      assert.equal(onlyText(result), 'This tool intentionally returns an error for testing');
      assert.equal(result.structuredContent?.error?.code, 'test_error');
    });
  });

  it('unknown tool is a -32602 protocol error', T, async () => {
    await withClient({}, async ({ client }) => {
      await rejectsWithCode(client.callTool({ name: 'no_such_tool', arguments: {} }), -32602);
    });
  });

  it('image, audio, embedded and mixed content', T, async () => {
    await withClient({}, async ({ client }) => {
      const image = await client.callTool({ name: 'test_image_content', arguments: {} });
      assert.deepEqual(image.content, [{ type: 'image', data: PNG_B64, mimeType: 'image/png' }]);
      const audio = await client.callTool({ name: 'test_audio_content', arguments: {} });
      assert.deepEqual(audio.content, [{ type: 'audio', data: WAV_B64, mimeType: 'audio/wav' }]);
      const embedded = await client.callTool({ name: 'test_embedded_resource', arguments: {} });
      assert.deepEqual(embedded.content, [
        {
          type: 'resource',
          resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' },
        },
      ]);
      const multi = await client.callTool({ name: 'test_multiple_content_types', arguments: {} });
      assert.deepEqual(
        multi.content.map((c) => c.type),
        ['text', 'image', 'resource'],
      );
      assert.equal(multi.content[0].text, 'Multiple content types test:');
      assert.equal(multi.content[2].resource.uri, 'test://mixed-content-resource');
      assert.deepEqual(JSON.parse(multi.content[2].resource.text), { test: 'data', value: 123 });
    });
  });

  it('json_schema_2020_12_tool echoes its arguments', T, async () => {
    await withClient({}, async ({ client }) => {
      const args = { name: 'Ada', phone: '+1 555 0100', contactMethod: 'phone' };
      const text = onlyText(await client.callTool({ name: 'json_schema_2020_12_tool', arguments: args }));
      const prefix = 'JSON Schema 2020-12 tool called with: ';
      assert.ok(text.startsWith(prefix), text);
      assert.deepEqual(JSON.parse(text.slice(prefix.length)), args);
    });
  });
});

describe('resources', () => {
  it('lists resources', T, async () => {
    await withClient({}, async ({ client }) => {
      const { resources } = await client.listResources();
      const byUri = Object.fromEntries(resources.map((r) => [r.uri, r]));
      assert.deepEqual(Object.keys(byUri).sort(), ['test://static-binary', 'test://static-text', 'test://watched-resource']);
      assert.equal(byUri['test://static-text'].name, 'static-text');
      assert.equal(byUri['test://static-text'].mimeType, 'text/plain');
      assert.equal(byUri['test://static-text'].title, 'Static Text Resource');
      assert.equal(byUri['test://static-binary'].mimeType, 'image/png');
    });
  });

  it('lists resource templates', T, async () => {
    await withClient({}, async ({ client }) => {
      const { resourceTemplates } = await client.listResourceTemplates();
      assert.deepEqual(
        resourceTemplates.map((t) => [t.uriTemplate, t.name, t.mimeType]),
        [['test://template/{id}/data', 'template', 'application/json']],
      );
    });
  });

  it('reads test://static-text', T, async () => {
    await withClient({}, async ({ client }) => {
      const { contents } = await client.readResource({ uri: 'test://static-text' });
      assert.deepEqual(contents, [
        { uri: 'test://static-text', mimeType: 'text/plain', text: 'This is the content of the static text resource.' },
      ]);
    });
  });

  it('reads test://static-binary as a blob', T, async () => {
    await withClient({}, async ({ client }) => {
      const { contents } = await client.readResource({ uri: 'test://static-binary' });
      assert.equal(contents.length, 1);
      assert.equal(contents[0].uri, 'test://static-binary');
      assert.equal(contents[0].mimeType, 'image/png');
      assert.equal(contents[0].text, undefined);
      assert.ok(contents[0].blob, 'blob missing');
      assert.deepEqual(Buffer.from(contents[0].blob, 'base64'), Buffer.from(PNG_B64, 'base64'));
    });
  });

  it('reads a templated resource', T, async () => {
    await withClient({}, async ({ client }) => {
      const { contents } = await client.readResource({ uri: 'test://template/xyz-7/data' });
      assert.equal(contents.length, 1);
      assert.equal(contents[0].uri, 'test://template/xyz-7/data');
      assert.equal(contents[0].mimeType, 'application/json');
      assert.deepEqual(JSON.parse(contents[0].text), { id: 'xyz-7', templateTest: true, data: 'Data for ID: xyz-7' });
    });
  });

  it('unknown resource is -32002', T, async () => {
    await withClient({}, async ({ client }) => {
      await rejectsWithCode(client.readResource({ uri: 'test://does-not-exist' }), -32002);
    });
  });
});

describe('prompts and completion', () => {
  it('lists prompts', T, async () => {
    await withClient({}, async ({ client }) => {
      const { prompts } = await client.listPrompts();
      assert.deepEqual(prompts.map((p) => p.name).sort(), EXPECTED_PROMPTS);
      const withArgs = prompts.find((p) => p.name === 'test_prompt_with_arguments');
      assert.deepEqual(
        withArgs.arguments.map((a) => [a.name, a.required]),
        [
          ['arg1', true],
          ['arg2', true],
        ],
      );
    });
  });

  it('gets test_simple_prompt', T, async () => {
    await withClient({}, async ({ client }) => {
      const { messages } = await client.getPrompt({ name: 'test_simple_prompt' });
      assert.deepEqual(messages, [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }]);
    });
  });

  it('gets test_prompt_with_arguments', T, async () => {
    await withClient({}, async ({ client }) => {
      const { messages } = await client.getPrompt({
        name: 'test_prompt_with_arguments',
        arguments: { arg1: 'alpha', arg2: 'beta' },
      });
      assert.deepEqual(messages, [
        { role: 'user', content: { type: 'text', text: "Prompt with arguments: arg1='alpha', arg2='beta'" } },
      ]);
    });
  });

  it('missing prompt argument is -32602', T, async () => {
    await withClient({}, async ({ client }) => {
      await rejectsWithCode(client.getPrompt({ name: 'test_prompt_with_arguments', arguments: { arg1: 'x' } }), -32602);
    });
  });

  it('gets test_prompt_with_image', T, async () => {
    await withClient({}, async ({ client }) => {
      const { messages } = await client.getPrompt({ name: 'test_prompt_with_image' });
      assert.deepEqual(messages, [
        { role: 'user', content: { type: 'image', data: PNG_B64, mimeType: 'image/png' } },
        { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
      ]);
    });
  });

  it('completes prompt arguments', T, async () => {
    await withClient({}, async ({ client }) => {
      const ref = { type: 'ref/prompt', name: 'test_prompt_with_arguments' };
      const hit = await client.complete({ ref, argument: { name: 'arg1', value: 'test' } });
      assert.deepEqual(hit.completion.values, ['testValue1', 'testValue2']);
      const miss = await client.complete({ ref, argument: { name: 'arg2', value: 'zzz' } });
      assert.deepEqual(miss.completion.values, []);
    });
  });
});

describe('server-initiated requests', () => {
  it('elicitation: accept', T, async () => {
    const seen = [];
    const answer = { username: 'ada', email: 'ada@example.com' };
    const elicit = async (req) => {
      seen.push(req.params);
      return { action: 'accept', content: answer };
    };
    await withClient({ elicit }, async ({ client }) => {
      const result = await client.callTool({ name: 'test_elicitation', arguments: { message: 'Who are you?' } });
      assert.equal(seen.length, 1);
      assert.equal(seen[0].message, 'Who are you?');
      assert.equal(seen[0].requestedSchema.type, 'object');
      assert.deepEqual(Object.keys(seen[0].requestedSchema.properties).sort(), ['email', 'username']);
      assert.deepEqual([...seen[0].requestedSchema.required].sort(), ['email', 'username']);
      assert.notEqual(result.isError, true);
      const text = onlyText(result);
      const prefix = 'User response: action=accept, content=';
      assert.ok(text.startsWith(prefix), text);
      assert.deepEqual(JSON.parse(text.slice(prefix.length)), answer);
    });
  });

  it('elicitation: decline', T, async () => {
    await withClient({ elicit: async () => ({ action: 'decline' }) }, async ({ client }) => {
      const result = await client.callTool({ name: 'test_elicitation', arguments: { message: 'Who are you?' } });
      assert.equal(onlyText(result), 'User response: action=decline, content={}');
    });
  });

  it('elicitation without the capability is a tool error', T, async () => {
    await withClient({}, async ({ client }) => {
      const result = await client.callTool({ name: 'test_elicitation', arguments: { message: 'x' } });
      assert.equal(result.isError, true);
      assert.match(onlyText(result), /elicitation/);
    });
  });

  it('sampling', T, async () => {
    const seen = [];
    const sample = async (req) => {
      seen.push(req.params);
      return {
        role: 'assistant',
        content: { type: 'text', text: 'Paris is the capital of France.' },
        model: 'interop-test-model',
        stopReason: 'endTurn',
      };
    };
    await withClient({ sample }, async ({ client }) => {
      const result = await client.callTool({ name: 'test_sampling', arguments: { prompt: 'What is the capital of France?' } });
      assert.equal(seen.length, 1);
      assert.deepEqual(seen[0].messages, [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }]);
      assert.equal(seen[0].maxTokens, 100);
      assert.notEqual(result.isError, true);
      assert.equal(onlyText(result), 'LLM response: Paris is the capital of France.');
    });
  });
});

describe('notifications', () => {
  it('progress via onprogress', T, async () => {
    await withClient({}, async ({ client, rec }) => {
      const updates = [];
      const result = await client.callTool({ name: 'test_tool_with_progress', arguments: {} }, undefined, {
        onprogress: (p) => updates.push(p),
      });
      assert.deepEqual(updates, [
        { progress: 0, total: 100, message: 'Completed step 0 of 100' },
        { progress: 50, total: 100, message: 'Completed step 50 of 100' },
        { progress: 100, total: 100, message: 'Completed step 100 of 100' },
      ]);
      for (let i = 1; i < updates.length; i++) assert.ok(updates[i].progress > updates[i - 1].progress);
      const calls = rec.postsWithMethod('tools/call').filter((e) => e.body.params.name === 'test_tool_with_progress');
      assert.equal(calls.length, 1);
      const token = calls[0].body.params._meta.progressToken;
      assert.notEqual(token, undefined);
      assert.equal(onlyText(result), String(token));
    });
  });

  it('logging notifications', T, async () => {
    await withClient({}, async ({ client, logs }) => {
      const result = await client.callTool({ name: 'test_tool_with_logging', arguments: {} });
      assert.equal(onlyText(result), 'Tool with logging executed successfully');
      assert.deepEqual(
        logs.map((l) => [l.level, l.data]),
        [
          ['info', 'Tool execution started'],
          ['info', 'Tool processing data'],
          ['info', 'Tool execution completed'],
        ],
      );
    });
  });

  it('logging/setLevel filters', T, async () => {
    await withClient({}, async ({ client, logs }) => {
      await client.setLoggingLevel('warning');
      await client.callTool({ name: 'test_tool_with_logging', arguments: {} });
      assert.deepEqual(logs, []);
      await client.setLoggingLevel('debug');
      await client.callTool({ name: 'test_tool_with_logging', arguments: {} });
      assert.deepEqual(
        logs.map((l) => l.data),
        ['Tool execution started', 'Tool processing data', 'Tool execution completed'],
      );
    });
  });
});

describe('resumability', () => {
  it('test_reconnection: resumes with GET + Last-Event-ID', T, async () => {
    await withClient({}, async ({ client, transport, rec }) => {
      const result = await client.callTool({ name: 'test_reconnection', arguments: {} });
      assert.notEqual(result.isError, true);
      assert.equal(onlyText(result), RECONNECTION_TEXT);
      const resumes = rec.exchanges.filter((e) => e.method === 'GET' && e.headers['last-event-id']);
      assert.ok(resumes.length >= 1, 'the SDK never resumed with Last-Event-ID');
      assert.equal(resumes[0].headers['mcp-session-id'], transport.sessionId);
      assert.equal(resumes[0].status, 200);
    });
  });
});
