// What the SDK tests share besides starting the stack: a fresh stack per test, the one cost
// event a call books, the mock's two usage scenarios with their prices, and each API's usage in
// Tollgate's canonical form (what the mock records and the cost events carry).
import assert from 'node:assert/strict';
import { afterEach, beforeEach } from 'node:test';

import { Stack } from './stack.mjs';

export const kClientKey = 'tg-client-key';
// No retries: a retry would be a second call at the mock and a second cost event.
export const kSdkOptions = { apiKey: kClientKey, maxRetries: 0, timeout: 15000 };

// 1500 prompt tokens (300 of them cache reads) and 400 completion tokens (100 of them
// reasoning). The gpt-test* price has no cache_read or reasoning entry, so those fall back to
// input and output: 1500 x 3 / 1M + 400 x 12 / 1M = 0.0093 whichever way the tokens are split.
export const kOpenAiMockHeaders = {
  'x-mock-prompt-tokens': '1500',
  'x-mock-cached-tokens': '300',
  'x-mock-completion-tokens': '400',
  'x-mock-reasoning-tokens': '100',
  'x-mock-chunks': '6',
};
export const kOpenAiUsage = {
  input_tokens: 1500,
  cache_read_tokens: 300,
  cache_write_tokens: 0,
  output_tokens: 400,
  reasoning_tokens: 100,
};
// The mock writes 4 content bytes per completion token.
export const kOpenAiContentLength = 400 * 4;
// A Chat Completions stream that ends with the usage chunk.
export const kStreamWithUsage = { stream: true, stream_options: { include_usage: true } };

// 3000 input tokens of which 1000 are cache reads and 500 cache writes; 200 output tokens.
// claude-test* and anthropic.claude-3-5-sonnet*: 3.00 input, 0.30 cache read, 3.75 cache write
// and 15.00 output per 1M tokens.
export const kAnthropicMockHeaders = {
  'x-mock-prompt-tokens': '3000',
  'x-mock-cached-tokens': '1000',
  'x-mock-cache-write-tokens': '500',
  'x-mock-completion-tokens': '200',
  'x-mock-chunks': '5',
};
export const kAnthropicUsage = {
  input_tokens: 3000,
  cache_read_tokens: 1000,
  cache_write_tokens: 500,
  output_tokens: 200,
  reasoning_tokens: 0,
};
export const kAnthropicCost = {
  currency: 'USD',
  input: '0.0045',
  cache_read: '0.0003',
  cache_write: '0.001875',
  output: '0.003',
  total: '0.009675',
};

// A fresh stack for each test of the enclosing describe, stopped after it: the test fails when
// the gateway or the mock does not exit cleanly on SIGTERM. The returned object stands for the
// running test's Stack (its fields and methods), so that a test body reads `stack.x` as though
// its file kept its own `let stack` and hooks.
export function stackPerTest(extraYaml = '') {
  let current;
  beforeEach(async () => {
    current = await Stack.start(extraYaml);
  });
  afterEach(async () => {
    const problems = (await current?.close()) ?? [];
    current = undefined;
    assert.deepEqual(problems, [], 'the gateway and the mock exit cleanly on SIGTERM');
  });
  return new Proxy(
    {},
    {
      get(_, key) {
        if (current === undefined) throw new Error(`no stack runs outside a test (read: ${String(key)})`);
        const value = current[key];
        return typeof value === 'function' ? value.bind(current) : value;
      },
    },
  );
}

// The data of the one cost event the test's calls booked; fails unless there is exactly one.
export async function onlyEvent(stack) {
  const events = await stack.waitForEvents(1);
  assert.equal(events.length, 1, `expected one cost event, got ${JSON.stringify(events)}`);
  return events[0].data;
}

// What an SDK stream (any async iterable) yields, in order.
export async function collect(stream) {
  const items = [];
  for await (const item of stream) items.push(item);
  return items;
}

// The error `promise` rejects with; the test fails when it resolves.
export function rejectionOf(promise) {
  return promise.then(
    () => assert.fail('the call succeeded'),
    (e) => e,
  );
}

// The text of a Chat Completions stream's chunks.
export const chatContent = (chunks) => chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');

// Chat Completions usage (openai, Azure OpenAI) in canonical form.
export function canonicalChatUsage(usage) {
  return {
    input_tokens: usage.prompt_tokens,
    cache_read_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
    cache_write_tokens: usage.prompt_tokens_details?.cache_write_tokens ?? 0,
    output_tokens: usage.completion_tokens,
    reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}

// Responses API usage in canonical form; that API reports no cache writes.
export function canonicalResponsesUsage(usage) {
  return {
    input_tokens: usage.input_tokens,
    cache_read_tokens: usage.input_tokens_details?.cached_tokens ?? 0,
    cache_write_tokens: 0,
    output_tokens: usage.output_tokens,
    reasoning_tokens: usage.output_tokens_details?.reasoning_tokens ?? 0,
  };
}

// Anthropic usage in canonical form: Anthropic's input_tokens excludes the cache.
export function canonicalAnthropicUsage(usage) {
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
