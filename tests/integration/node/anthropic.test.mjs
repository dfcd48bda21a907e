// The official @anthropic-ai/sdk pointed at the gateway: what the SDK receives must be what the
// mock upstream sent (the mock called directly is the reference), and the cost event must book
// the mock's usage with each cache part priced once.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';

import { importSdk, Stack } from './stack.mjs';

const { default: Anthropic, APIError } = await importSdk('@anthropic-ai/sdk');

// 3000 input tokens of which 1000 are cache reads and 500 cache writes; 200 output tokens.
// claude-test*: 3.00 input, 0.30 cache read, 3.75 cache write, 15.00 output per 1M tokens.
const kMockHeaders = {
  'x-mock-prompt-tokens': '3000',
  'x-mock-cached-tokens': '1000',
  'x-mock-cache-write-tokens': '500',
  'x-mock-completion-tokens': '200',
  'x-mock-chunks': '5',
};
const kUsage = {
  input_tokens: 3000,
  cache_read_tokens: 1000,
  cache_write_tokens: 500,
  output_tokens: 200,
  reasoning_tokens: 0,
};
const kCost = {
  currency: 'USD',
  input: '0.0045',
  cache_read: '0.0003',
  cache_write: '0.001875',
  output: '0.003',
  total: '0.009675',
};
const kRequest = {
  model: 'claude-test-1',
  max_tokens: 512,
  messages: [{ role: 'user', content: 'Say hello' }],
};

function client(baseURL, headers = {}) {
  return new Anthropic({
    baseURL,
    apiKey: 'tg-client-key',
    maxRetries: 0,
    timeout: 15000,
    defaultHeaders: { ...kMockHeaders, 'x-team': 'search', ...headers },
  });
}

// Anthropic's usage in Tollgate's canonical form: input_tokens excludes the cache.
function canonical(usage) {
  const written = usage.cache_creation_input_tokens ?? 0;
  const read = usage.cache_read_input_tokens ?? 0;
  return {
    input_tokens: usage.input_tokens + written + read,
    cache_read_tokens: read,
    cache_write_tokens: written,
    output_tokens: usage.output_tokens,
    reasoning_tokens: 0,
  };
}

async function collect(stream) {
  const events = [];
  for await (const event of stream) events.push(event);
  return events;
}

describe('@anthropic-ai/sdk through the gateway', () => {
  let stack;

  beforeEach(async () => {
    stack = await Stack.start();
  });

  afterEach(async () => {
    const problems = (await stack?.close()) ?? [];
    stack = undefined;
    assert.deepEqual(problems, [], 'the gateway and the mock exit cleanly on SIGTERM');
  });

  async function onlyEvent() {
    const events = await stack.waitForEvents(1);
    assert.equal(events.length, 1, `expected one cost event, got ${JSON.stringify(events)}`);
    return events[0].data;
  }

  test('messages.create: the message is the mock\'s and the event books its usage', async () => {
    const expected = await client(stack.mock.url).messages.create(kRequest);
    const message = await client(stack.gateway.url).messages.create(kRequest);
    assert.deepEqual(message, expected);
    assert.equal(message.usage.input_tokens, 1500);  // excludes the cache, as Anthropic sends it
    assert.deepEqual(canonical(message.usage), kUsage);

    const calls = await stack.mockCalls();
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[1].usage, kUsage);
    assert.equal(calls[1].headers['x-api-key'], undefined, 'the client key is not forwarded');

    const event = await onlyEvent();
    assert.equal(event.provider, 'anthropic');
    assert.equal(event.model, 'claude-test-1');
    assert.equal(event.stream, false);
    assert.equal(event.outcome, 'ok');
    assert.deepEqual(event.usage, kUsage);
    assert.equal(event.usage_source, 'provider');
    assert.equal(event.price_ref, 'node-itest-1/claude-test*');
    assert.deepEqual(event.cost, kCost);
  });

  test('streaming: the same events as the mock sent, and the cumulative usage is booked', async () => {
    const expected = await collect(
      await client(stack.mock.url).messages.create({ ...kRequest, stream: true }),
    );
    const events = await collect(
      await client(stack.gateway.url).messages.create({ ...kRequest, stream: true }),
    );
    assert.deepEqual(events, expected);
    // (the SDK itself drops the ping events)
    assert.deepEqual(
      events.map((e) => e.type),
      ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta',
        'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop',
        'message_delta', 'message_stop'],
    );
    const delta = events.find((e) => e.type === 'message_delta');
    assert.equal(delta.usage.output_tokens, 200);

    const event = await onlyEvent();
    assert.equal(event.stream, true);
    assert.deepEqual(event.usage, kUsage);
    assert.equal(event.usage_source, 'provider');
    assert.deepEqual(event.cost, kCost);
  });

  test('messages.stream helper: finalMessage usage equals the booked usage', async () => {
    const stream = client(stack.gateway.url).messages.stream(kRequest);
    const message = await stream.finalMessage();
    assert.deepEqual(canonical(message.usage), kUsage);
    const event = await onlyEvent();
    assert.deepEqual(event.usage, canonical(message.usage));
  });

  test('an error event mid-stream reaches the SDK and is booked upstream_error', async () => {
    const stream = await client(stack.gateway.url, { 'x-mock-error-mid-stream': '2' }).messages.create({
      ...kRequest,
      stream: true,
    });
    await assert.rejects(collect(stream), (err) => err instanceof APIError && /Overloaded/.test(err.message));
    const event = await onlyEvent();
    assert.equal(event.outcome, 'upstream_error');
    assert.equal(event.usage_source, 'estimated');
    assert.equal(event.usage.input_tokens, 3000);
  });

  test('a gateway error reaches the SDK in Anthropic\'s shape', async () => {
    await assert.rejects(
      client(stack.gateway.url).messages.create({ ...kRequest, model: 'mistral-large' }),
      (err) => err instanceof APIError && err.status === 404 && err.error?.error?.type === 'not_found_error',
    );
  });
});
