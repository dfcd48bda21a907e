// The official `openai` SDK's Responses API through the gateway: the response and the streamed
// events are the mock's, and the usage of the terminal event is booked.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';

import { importSdk, Stack } from './stack.mjs';

const { default: OpenAI } = await importSdk('openai');

// 1500 input tokens (300 cached) and 400 output tokens (100 reasoning). gpt-test* has no
// cache_read or reasoning price, so they fall back to input and output: 0.0093 in total.
const kMockHeaders = {
  'x-mock-prompt-tokens': '1500',
  'x-mock-cached-tokens': '300',
  'x-mock-completion-tokens': '400',
  'x-mock-reasoning-tokens': '100',
  'x-mock-chunks': '4',
};
const kUsage = {
  input_tokens: 1500,
  cache_read_tokens: 300,
  cache_write_tokens: 0,
  output_tokens: 400,
  reasoning_tokens: 100,
};

function client(baseURL) {
  return new OpenAI({
    baseURL: `${baseURL}/v1`,
    apiKey: 'tg-client-key',
    maxRetries: 0,
    timeout: 15000,
    defaultHeaders: { ...kMockHeaders, 'x-team': 'search' },
  });
}

function canonical(usage) {
  return {
    input_tokens: usage.input_tokens,
    cache_read_tokens: usage.input_tokens_details?.cached_tokens ?? 0,
    cache_write_tokens: 0,
    output_tokens: usage.output_tokens,
    reasoning_tokens: usage.output_tokens_details?.reasoning_tokens ?? 0,
  };
}

async function collect(stream) {
  const events = [];
  for await (const event of stream) events.push(event);
  return events;
}

describe('openai SDK Responses API through the gateway', () => {
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

  test('responses.create: the response is the mock\'s and its usage is booked', async () => {
    const request = { model: 'gpt-test-1', input: 'Say hello' };
    const expected = await client(stack.mock.url).responses.create(request);
    const response = await client(stack.gateway.url).responses.create(request);
    assert.deepEqual(response, expected);
    assert.deepEqual(canonical(response.usage), kUsage);

    const event = await onlyEvent();
    assert.equal(event.operation, 'responses');
    assert.equal(event.endpoint, '/v1/responses');
    assert.deepEqual(event.usage, kUsage);
    assert.equal(event.usage_source, 'provider');
    assert.equal(event.cost.total, '0.0093');
  });

  test('streaming: the named events are the mock\'s and response.completed\'s usage is booked', async () => {
    const request = { model: 'gpt-test-1', input: 'Say hello', stream: true };
    const expected = await collect(await client(stack.mock.url).responses.create(request));
    const events = await collect(await client(stack.gateway.url).responses.create(request));
    assert.deepEqual(events, expected);
    assert.equal(events[0].type, 'response.created');
    assert.equal(events[0].response.usage, null);
    const completed = events.at(-1);
    assert.equal(completed.type, 'response.completed');
    assert.deepEqual(canonical(completed.response.usage), kUsage);

    const event = await onlyEvent();
    assert.equal(event.stream, true);
    assert.deepEqual(event.usage, kUsage);
    assert.equal(event.usage_source, 'provider');
    assert.equal(event.cost.total, '0.0093');
  });
});
