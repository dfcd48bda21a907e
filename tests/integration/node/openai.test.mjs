// The official `openai` npm SDK pointed at the gateway exactly as a user would: what the SDK
// receives, what the mock upstream recorded and the cost event must all agree.
import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';

import {
  canonicalChatUsage,
  chatContent,
  collect,
  kClientKey,
  kOpenAiContentLength,
  kOpenAiMockHeaders,
  kOpenAiUsage,
  kSdkOptions,
  kStreamWithUsage,
  onlyEvent,
  rejectionOf,
  stackPerTest,
} from './sdk_helpers.mjs';
import { importSdk, kUpstreamSecret } from './stack.mjs';

const { default: OpenAI } = await importSdk('openai');

const kMessages = [{ role: 'user', content: 'Say hello' }];
const kRequest = { model: 'gpt-test-1', messages: kMessages };

// kOpenAiUsage part by part at the gpt-test* price: the 1200 uncached and the 300 cached input
// tokens at the input price, the 400 output tokens (reasoning included) at the output price.
const kCost = {
  currency: 'USD',
  input: '0.0036',
  cache_read: '0.0009',
  cache_write: '0',
  output: '0.0048',
  total: '0.0093',
};

function client(baseURL) {
  return new OpenAI({
    ...kSdkOptions,
    baseURL,
    defaultHeaders: { ...kOpenAiMockHeaders, 'x-team': 'fraud-platform' },
  });
}

describe('openai SDK through the gateway', () => {
  const stack = stackPerTest();
  let gateway;
  let direct;

  beforeEach(() => {
    gateway = client(`${stack.gateway.url}/v1`);
    direct = client(`${stack.mock.url}/v1`);
  });

  test('non-streaming usage matches the mock and the event is priced exactly', async () => {
    const { data: completion, response, request_id: requestId } = await gateway.chat.completions
      .create(kRequest)
      .withResponse();

    assert.equal(response.status, 200);
    assert.match(requestId, /^[0-9a-f]{32}$/);
    assert.equal(completion.choices[0].message.content.length, kOpenAiContentLength);
    assert.deepEqual(completion.usage, {
      prompt_tokens: 1500,
      completion_tokens: 400,
      total_tokens: 1900,
      prompt_tokens_details: { cached_tokens: 300, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 100,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    });

    const calls = await stack.mockCalls();
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0].usage, kOpenAiUsage);
    assert.deepEqual(canonicalChatUsage(completion.usage), calls[0].usage);

    const event = await onlyEvent(stack);
    assert.equal(event.request_id, requestId);
    assert.equal(event.team, 'fraud-platform');
    assert.equal(event.model, 'gpt-test-1');
    assert.equal(event.stream, false);
    assert.equal(event.status, 200);
    assert.equal(event.outcome, 'ok');
    assert.deepEqual(event.usage, calls[0].usage);
    assert.equal(event.usage_source, 'provider');
    assert.equal(event.priced, true);
    assert.equal(event.price_ref, 'node-itest-1/gpt-test*');
    assert.deepEqual(event.cost, kCost);
    assert.equal(event.cost.total, '0.0093');
  });

  test('streaming without stream_options gets the direct chunks and no usage, yet is metered', async () => {
    const directChunks = await collect(
      await direct.chat.completions.create({ ...kRequest, stream: true }),
    );
    const { data: stream, response } = await gateway.chat.completions
      .create({ ...kRequest, stream: true })
      .withResponse();
    const chunks = await collect(stream);

    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    // Preamble, 6 content chunks, the finish chunk; the usage chunk the gateway asked for is hidden.
    assert.equal(chunks.length, 8);
    assert.equal(JSON.stringify(chunks), JSON.stringify(directChunks));
    for (const chunk of chunks) assert.ok(!('usage' in chunk), JSON.stringify(chunk));
    assert.equal(chatContent(chunks), chatContent(directChunks));
    assert.equal(chatContent(chunks).length, kOpenAiContentLength);
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');

    const calls = await stack.mockCalls();
    assert.equal(calls.length, 2);
    assert.equal(calls[0].include_usage, false, 'the direct call did not ask for usage');
    assert.equal(calls[1].include_usage, true, 'the gateway asks for usage on the client\'s behalf');
    assert.equal(calls[1].usage_sent, true);
    assert.equal(calls[1].completed, true);

    const event = await onlyEvent(stack);
    assert.equal(event.request_id, response.headers.get('x-request-id'));
    assert.equal(event.stream, true);
    assert.equal(event.outcome, 'ok');
    assert.deepEqual(event.usage, calls[1].usage);
    assert.deepEqual(event.usage, kOpenAiUsage);
    assert.equal(event.usage_source, 'provider');
    assert.deepEqual(event.cost, kCost);
  });

  test('streaming with include_usage delivers the usage chunk equal to the mock\'s', async () => {
    const request = { ...kRequest, ...kStreamWithUsage };
    const directChunks = await collect(await direct.chat.completions.create(request));
    const { data: stream, response } = await gateway.chat.completions.create(request).withResponse();
    const chunks = await collect(stream);

    assert.equal(JSON.stringify(chunks), JSON.stringify(directChunks));
    assert.equal(chunks.length, 9);
    for (const chunk of chunks.slice(0, -1)) assert.equal(chunk.usage, null);
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage.prompt_tokens, 1500);
    assert.equal(last.usage.completion_tokens, 400);
    assert.equal(chatContent(chunks).length, kOpenAiContentLength);

    const calls = await stack.mockCalls();
    assert.equal(calls.length, 2);
    assert.equal(calls[1].include_usage, true);
    assert.deepEqual(canonicalChatUsage(last.usage), calls[1].usage);

    const event = await onlyEvent(stack);
    assert.equal(event.request_id, response.headers.get('x-request-id'));
    assert.equal(event.stream, true);
    assert.deepEqual(event.usage, canonicalChatUsage(last.usage));
    assert.equal(event.usage_source, 'provider');
    assert.deepEqual(event.cost, kCost);
  });

  test('an unknown model makes the SDK throw NotFoundError model_not_found', async () => {
    const err = await rejectionOf(
      gateway.chat.completions.create({ model: 'llama-unknown', messages: kMessages }),
    );
    assert.ok(err instanceof OpenAI.NotFoundError, `got ${err?.constructor?.name}: ${err}`);
    assert.ok(err instanceof OpenAI.APIError);
    assert.equal(err.status, 404);
    assert.equal(err.code, 'model_not_found');
    assert.equal(err.type, 'invalid_request_error');
    assert.match(err.headers.get('x-request-id'), /^[0-9a-f]{32}$/);
    assert.equal(err.requestID, err.headers.get('x-request-id'));

    assert.deepEqual(await stack.mockCalls(), [], 'nothing reaches an upstream');
    const event = await onlyEvent(stack);
    assert.equal(event.request_id, err.requestID);
    assert.equal(event.outcome, 'rejected');
    assert.equal(event.status, 404);
    assert.equal(event.priced, false);
  });

  test('an upstream 429 reaches the SDK as RateLimitError, relayed unchanged', async () => {
    const headers = { 'x-mock-status': '429' };
    const failing = (c) => rejectionOf(c.chat.completions.create(kRequest, { headers }));
    const directErr = await failing(direct);
    const err = await failing(gateway);

    assert.ok(err instanceof OpenAI.RateLimitError, `got ${err?.constructor?.name}: ${err}`);
    assert.equal(err.status, 429);
    assert.equal(err.code, 'rate_limit_exceeded');
    assert.deepEqual(err.error, directErr.error);
    assert.equal(err.message, directErr.message);
    assert.match(err.headers.get('x-request-id'), /^[0-9a-f]{32}$/);

    const calls = await stack.mockCalls();
    assert.equal(calls.length, 2, 'maxRetries 0: one direct call and one through the gateway');
    assert.equal(calls[1].status, 429);
    const event = await onlyEvent(stack);
    assert.equal(event.request_id, err.requestID);
    assert.equal(event.outcome, 'upstream_error');
    assert.equal(event.status, 429);
  });

  test('asResponse exposes the raw response with its x-request-id', async () => {
    const response = await gateway.chat.completions
      .create(kRequest)
      .asResponse();
    assert.equal(response.status, 200);
    const requestId = response.headers.get('x-request-id');
    assert.match(requestId, /^[0-9a-f]{32}$/);
    const body = await response.json();
    assert.equal(body.usage.prompt_tokens, 1500);
    assert.equal((await onlyEvent(stack)).request_id, requestId);
  });

  test('the SDK\'s own key never reaches the upstream', async () => {
    // Called directly, the mock does see the SDK's key: the check below is not vacuous.
    await direct.chat.completions.create(kRequest);
    await gateway.chat.completions.create(kRequest);
    await collect(
      await gateway.chat.completions.create({ ...kRequest, stream: true }),
    );
    // An upstream configured without credentials (self-hosted) must not get the client's either.
    await gateway.chat.completions.create({ model: 'local-llama', messages: kMessages });

    const calls = await stack.mockCalls();
    assert.equal(calls.length, 4);
    assert.equal(calls[0].headers.authorization, `Bearer ${kClientKey}`);
    const viaGateway = calls.slice(1);
    assert.equal(viaGateway[0].headers.authorization, `Bearer ${kUpstreamSecret}`);
    assert.equal(viaGateway[1].headers.authorization, `Bearer ${kUpstreamSecret}`);
    assert.equal(viaGateway[1].stream, true);
    assert.equal(viaGateway[2].model, 'local-llama');
    assert.ok(!('authorization' in viaGateway[2].headers), JSON.stringify(viaGateway[2].headers));
    for (const call of viaGateway) assert.ok(!('x-team' in call.headers), 'attribution stays at the gateway');
    assert.ok(!JSON.stringify(viaGateway).includes(kClientKey), JSON.stringify(viaGateway));
    assert.equal((await stack.waitForEvents(3)).length, 3);
  });
});
