// The official @anthropic-ai/sdk pointed at the gateway: what the SDK receives must be what the
// mock upstream sent (the mock called directly is the reference), and the cost event must book
// the mock's usage with each cache part priced once.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  canonicalAnthropicUsage,
  collect,
  kAnthropicCost,
  kAnthropicMockHeaders,
  kAnthropicUsage,
  kSdkOptions,
  onlyEvent,
  stackPerTest,
} from './sdk_helpers.mjs';
import { importSdk } from './stack.mjs';

const { default: Anthropic, APIError } = await importSdk('@anthropic-ai/sdk');

const kRequest = {
  model: 'claude-test-1',
  max_tokens: 512,
  messages: [{ role: 'user', content: 'Say hello' }],
};

function client(baseURL, headers = {}) {
  return new Anthropic({
    ...kSdkOptions,
    baseURL,
    defaultHeaders: { ...kAnthropicMockHeaders, 'x-team': 'search', ...headers },
  });
}

describe('@anthropic-ai/sdk through the gateway', () => {
  const stack = stackPerTest();

  test('messages.create: the message is the mock\'s and the event books its usage', async () => {
    const expected = await client(stack.mock.url).messages.create(kRequest);
    const message = await client(stack.gateway.url).messages.create(kRequest);
    assert.deepEqual(message, expected);
    assert.equal(message.usage.input_tokens, 1500);  // excludes the cache, as Anthropic sends it
    assert.deepEqual(canonicalAnthropicUsage(message.usage), kAnthropicUsage);

    const calls = await stack.mockCalls();
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[1].usage, kAnthropicUsage);
    assert.equal(calls[1].headers['x-api-key'], undefined, 'the client key is not forwarded');

    const event = await onlyEvent(stack);
    assert.equal(event.provider, 'anthropic');
    assert.equal(event.model, 'claude-test-1');
    assert.equal(event.stream, false);
    assert.equal(event.outcome, 'ok');
    assert.deepEqual(event.usage, kAnthropicUsage);
    assert.equal(event.usage_source, 'provider');
    assert.equal(event.price_ref, 'node-itest-1/claude-test*');
    assert.deepEqual(event.cost, kAnthropicCost);
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

    const event = await onlyEvent(stack);
    assert.equal(event.stream, true);
    assert.deepEqual(event.usage, kAnthropicUsage);
    assert.equal(event.usage_source, 'provider');
    assert.deepEqual(event.cost, kAnthropicCost);
  });

  test('messages.stream helper: finalMessage usage equals the booked usage', async () => {
    const stream = client(stack.gateway.url).messages.stream(kRequest);
    const message = await stream.finalMessage();
    assert.deepEqual(canonicalAnthropicUsage(message.usage), kAnthropicUsage);
    const event = await onlyEvent(stack);
    assert.deepEqual(event.usage, canonicalAnthropicUsage(message.usage));
  });

  test('an error event mid-stream reaches the SDK and is booked upstream_error', async () => {
    const stream = await client(stack.gateway.url, { 'x-mock-error-mid-stream': '2' }).messages.create({
      ...kRequest,
      stream: true,
    });
    await assert.rejects(collect(stream), (err) => err instanceof APIError && /Overloaded/.test(err.message));
    const event = await onlyEvent(stack);
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
