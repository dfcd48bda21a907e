// The official JavaScript SDKs with their default compression (they ask for gzip) against a mock
// that compresses whenever allowed, as real providers do: the SDK must get the mock's answer and
// the cost event must book exactly the mock's usage, so the gateway must read plain bytes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  collect,
  kAnthropicMockHeaders,
  kAnthropicUsage,
  kOpenAiContentLength,
  kOpenAiMockHeaders,
  kOpenAiUsage,
  kSdkOptions,
  kStreamWithUsage,
  onlyEvent,
  stackPerTest,
} from './sdk_helpers.mjs';
import { importSdk } from './stack.mjs';

const { default: OpenAI } = await importSdk('openai');
const { default: Anthropic } = await importSdk('@anthropic-ai/sdk');

// x-mock-encoding auto: negotiate from the request's Accept-Encoding (docs/mock-upstream.md).
// TOLLGATE_MOCK_ENCODING=identity tells a compression defect apart from any other.
const kEncoding = process.env.TOLLGATE_MOCK_ENCODING ?? 'auto';
const kCompressing = { 'x-mock-encoding': kEncoding };
const kMessages = [{ role: 'user', content: 'Say hello' }];
const kOpenAiRequest = { model: 'gpt-test-1', messages: kMessages };
const kAnthropicRequest = { model: 'claude-test-1', max_tokens: 512, messages: kMessages };

function openai(baseURL) {
  return new OpenAI({
    ...kSdkOptions,
    baseURL: `${baseURL}/v1`,
    defaultHeaders: { ...kOpenAiMockHeaders, ...kCompressing },
  });
}

function anthropic(baseURL) {
  return new Anthropic({
    ...kSdkOptions,
    baseURL,
    defaultHeaders: { ...kAnthropicMockHeaders, ...kCompressing },
  });
}

describe('the SDKs default compression against a compressing upstream', () => {
  const stack = stackPerTest();

  async function assertBooked(usage) {
    const calls = await stack.mockCalls();
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0].usage, usage);
    const event = await onlyEvent(stack);
    assert.deepEqual(event.usage, usage);
    assert.equal(event.usage_source, 'provider');
    assert.equal(event.outcome, 'ok');
    return event;
  }

  test('premise: the openai SDK asks for gzip and the mock then compresses', async () => {
    const completion = await openai(stack.mock.url).chat.completions.create(kOpenAiRequest);
    assert.equal(completion.usage.prompt_tokens, 1500);
    const [call] = await stack.mockCalls();
    assert.match(call.headers['accept-encoding'], /gzip/);
    if (kEncoding === 'auto') assert.notEqual(call.encoding, 'identity');
  });

  test('openai non-streaming: usage exact', async () => {
    const completion = await openai(stack.gateway.url).chat.completions.create(kOpenAiRequest);
    assert.equal(completion.choices[0].message.content.length, kOpenAiContentLength);
    assert.equal(completion.usage.prompt_tokens, 1500);
    assert.equal(completion.usage.completion_tokens_details.reasoning_tokens, 100);
    const event = await assertBooked(kOpenAiUsage);
    assert.equal(event.stream, false);
    assert.equal(event.cost.total, '0.0093');
  });

  test('openai streaming with include_usage: the usage chunk arrives and is booked exactly', async () => {
    const chunks = await collect(
      await openai(stack.gateway.url).chat.completions.create({
        ...kOpenAiRequest,
        ...kStreamWithUsage,
      }),
    );
    assert.equal(chunks.length, 9);
    assert.equal(chunks.at(-1).usage.prompt_tokens, 1500);
    assert.equal(chunks.at(-1).usage.completion_tokens, 400);
    const event = await assertBooked(kOpenAiUsage);
    assert.equal(event.stream, true);
  });

  test('openai streaming without include_usage: metered, and the usage chunk stays hidden', async () => {
    const chunks = await collect(
      await openai(stack.gateway.url).chat.completions.create({ ...kOpenAiRequest, stream: true }),
    );
    assert.equal(chunks.length, 8);
    for (const chunk of chunks) assert.ok(!('usage' in chunk), JSON.stringify(chunk));
    await assertBooked(kOpenAiUsage);
  });

  test('anthropic non-streaming: usage exact, cache parts included', async () => {
    const message = await anthropic(stack.gateway.url).messages.create(kAnthropicRequest);
    assert.equal(message.usage.input_tokens, 1500);
    assert.equal(message.usage.cache_read_input_tokens, 1000);
    const event = await assertBooked(kAnthropicUsage);
    assert.equal(event.cost.total, '0.009675');
  });

  test('anthropic streaming: the cumulative usage is booked exactly', async () => {
    const events = await collect(
      await anthropic(stack.gateway.url).messages.create({ ...kAnthropicRequest, stream: true }),
    );
    assert.equal(events.filter((e) => e.type === 'content_block_delta').length, 5);
    assert.equal(events.at(-2).usage.output_tokens, 200);
    await assertBooked(kAnthropicUsage);
  });
});
