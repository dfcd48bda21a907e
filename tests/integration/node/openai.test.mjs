// The official `openai` npm SDK pointed at the gateway exactly as a user would: what the SDK
// receives, what the mock upstream recorded and the cost event must all agree.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';

import { importSdk, kUpstreamSecret, Stack } from './stack.mjs';

const { default: OpenAI } = await importSdk('openai');

const kClientKey = 'tg-client-key';
const kMessages = [{ role: 'user', content: 'Say hello' }];

// 1500 prompt (300 of them cache reads) and 400 completion (100 of them reasoning) tokens. The
// gpt-test* price has no cache_read or reasoning entry, so those fall back to input and output:
// 1500 x 3 / 1M + 400 x 12 / 1M = 0.0093 whichever way the tokens are split.
const kMockHeaders = {
  'x-mock-prompt-tokens': '1500',
  'x-mock-cached-tokens': '300',
  'x-mock-completion-tokens': '400',
  'x-mock-reasoning-tokens': '100',
  'x-mock-chunks': '6',
};
const kCanonicalUsage = {
  input_tokens: 1500,
  cache_read_tokens: 300,
  cache_write_tokens: 0,
  output_tokens: 400,
  reasoning_tokens: 100,
};
const kCost = {
  currency: 'USD',
  input: '0.0036',
  cache_read: '0.0009',
  cache_write: '0',
  output: '0.0048',
  total: '0.0093',
};
// The mock writes 4 content bytes per completion token.
const kContentLength = 400 * 4;

function client(baseURL, headers = {}) {
  return new OpenAI({
    baseURL,
    apiKey: kClientKey,
    maxRetries: 0,
    timeout: 15000,
    defaultHeaders: { ...kMockHeaders, 'x-team': 'fraud-platform', ...headers },
  });
}

// An OpenAI usage object in Tollgate's canonical form (what the mock records and events carry).
function canonical(usage) {
  return {
    input_tokens: usage.prompt_tokens,
    cache_read_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
    cache_write_tokens: usage.prompt_tokens_details?.cache_write_tokens ?? 0,
    output_tokens: usage.completion_tokens,
    reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}

async function collect(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

const contentOf = (chunks) => chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');

describe('openai SDK through the gateway', () => {
  let stack;
  let gateway;
  let direct;

  beforeEach(async () => {
    stack = await Stack.start();
    gateway = client(`${stack.gateway.url}/v1`);
    direct = client(`${stack.mock.url}/v1`);
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

  test('non-streaming usage matches the mock and the event is priced exactly', async () => {
    const { data: completion, response, request_id: requestId } = await gateway.chat.completions
      .create({ model: 'gpt-test-1', messages: kMessages })
      .withResponse();

    assert.equal(response.status, 200);
    assert.match(requestId, /^[0-9a-f]{32}$/);
    assert.equal(completion.choices[0].message.content.length, kContentLength);
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
    assert.deepEqual(calls[0].usage, kCanonicalUsage);
    assert.deepEqual(canonical(completion.usage), calls[0].usage);

    const event = await onlyEvent();
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
      await direct.chat.completions.create({ model: 'gpt-test-1', messages: kMessages, stream: true }),
    );
    const { data: stream, response } = await gateway.chat.completions
      .create({ model: 'gpt-test-1', messages: kMessages, stream: true })
      .withResponse();
    const chunks = await collect(stream);

    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    // Preamble, 6 content chunks, the finish chunk; the usage chunk the gateway asked for is hidden.
    assert.equal(chunks.length, 8);
    assert.equal(JSON.stringify(chunks), JSON.stringify(directChunks));
    for (const chunk of chunks) assert.ok(!('usage' in chunk), JSON.stringify(chunk));
    assert.equal(contentOf(chunks), contentOf(directChunks));
    assert.equal(contentOf(chunks).length, kContentLength);
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');

    const calls = await stack.mockCalls();
    assert.equal(calls.length, 2);
    assert.equal(calls[0].include_usage, false, 'the direct call did not ask for usage');
    assert.equal(calls[1].include_usage, true, 'the gateway asks for usage on the client\'s behalf');
    assert.equal(calls[1].usage_sent, true);
    assert.equal(calls[1].completed, true);

    const event = await onlyEvent();
    assert.equal(event.request_id, response.headers.get('x-request-id'));
    assert.equal(event.stream, true);
    assert.equal(event.outcome, 'ok');
    assert.deepEqual(event.usage, calls[1].usage);
    assert.deepEqual(event.usage, kCanonicalUsage);
    assert.equal(event.usage_source, 'provider');
    assert.deepEqual(event.cost, kCost);
  });

  test('streaming with include_usage delivers the usage chunk equal to the mock\'s', async () => {
    const request = {
      model: 'gpt-test-1',
      messages: kMessages,
      stream: true,
      stream_options: { include_usage: true },
    };
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
    assert.equal(contentOf(chunks).length, kContentLength);

    const calls = await stack.mockCalls();
    assert.equal(calls.length, 2);
    assert.equal(calls[1].include_usage, true);
    assert.deepEqual(canonical(last.usage), calls[1].usage);

    const event = await onlyEvent();
    assert.equal(event.request_id, response.headers.get('x-request-id'));
    assert.equal(event.stream, true);
    assert.deepEqual(event.usage, canonical(last.usage));
    assert.equal(event.usage_source, 'provider');
    assert.deepEqual(event.cost, kCost);
  });

  test('an unknown model makes the SDK throw NotFoundError model_not_found', async () => {
    const err = await gateway.chat.completions
      .create({ model: 'llama-unknown', messages: kMessages })
      .then(
        () => assert.fail('the call succeeded'),
        (e) => e,
      );
    assert.ok(err instanceof OpenAI.NotFoundError, `got ${err?.constructor?.name}: ${err}`);
    assert.ok(err instanceof OpenAI.APIError);
    assert.equal(err.status, 404);
    assert.equal(err.code, 'model_not_found');
    assert.equal(err.type, 'invalid_request_error');
    assert.match(err.headers.get('x-request-id'), /^[0-9a-f]{32}$/);
    assert.equal(err.requestID, err.headers.get('x-request-id'));

    assert.deepEqual(await stack.mockCalls(), [], 'nothing reaches an upstream');
    const event = await onlyEvent();
    assert.equal(event.request_id, err.requestID);
    assert.equal(event.outcome, 'rejected');
    assert.equal(event.status, 404);
    assert.equal(event.priced, false);
  });

  test('an upstream 429 reaches the SDK as RateLimitError, relayed unchanged', async () => {
    const headers = { 'x-mock-status': '429' };
    const failing = (c) =>
      c.chat.completions.create({ model: 'gpt-test-1', messages: kMessages }, { headers }).then(
        () => assert.fail('the call succeeded'),
        (e) => e,
      );
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
    const event = await onlyEvent();
    assert.equal(event.request_id, err.requestID);
    assert.equal(event.outcome, 'upstream_error');
    assert.equal(event.status, 429);
  });

  test('asResponse exposes the raw response with its x-request-id', async () => {
    const response = await gateway.chat.completions
      .create({ model: 'gpt-test-1', messages: kMessages })
      .asResponse();
    assert.equal(response.status, 200);
    const requestId = response.headers.get('x-request-id');
    assert.match(requestId, /^[0-9a-f]{32}$/);
    const body = await response.json();
    assert.equal(body.usage.prompt_tokens, 1500);
    assert.equal((await onlyEvent()).request_id, requestId);
  });

  test('the SDK\'s own key never reaches the upstream', async () => {
    // Called directly, the mock does see the SDK's key: the check below is not vacuous.
    await direct.chat.completions.create({ model: 'gpt-test-1', messages: kMessages });
    await gateway.chat.completions.create({ model: 'gpt-test-1', messages: kMessages });
    await collect(
      await gateway.chat.completions.create({ model: 'gpt-test-1', messages: kMessages, stream: true }),
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
