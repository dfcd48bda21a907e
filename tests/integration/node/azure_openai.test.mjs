// The official `openai` npm SDK's AzureOpenAI client pointed at the gateway as its Azure
// endpoint (nothing else changes): its api-key is the caller's key to the gateway, the upstream
// gets the resource key the gateway is configured with, the deployment is priced as the model
// the upstream's `deployments` names, and the cost event books exactly what the mock sent.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';

import { importSdk, kUpstreamSecret, Stack } from './stack.mjs';

const { AzureOpenAI } = await importSdk('openai');

const kClientKey = 'tg-azure-client-key';
const kApiVersion = '2024-10-21';
const kMessages = [{ role: 'user', content: 'Say hello' }];
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
// gpt-test* (the price of the deployment's model, gpt-test-azure): 1500 x 3 / 1M + 400 x 12 / 1M.
const kCostTotal = '0.0093';
const kContentLength = 400 * 4;

function client(endpoint, headers = kMockHeaders) {
  return new AzureOpenAI({
    endpoint,
    apiKey: kClientKey,
    apiVersion: kApiVersion,
    maxRetries: 0,
    timeout: 15000,
    defaultHeaders: headers,
  });
}

function canonical(usage) {
  return {
    input_tokens: usage.prompt_tokens,
    cache_read_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
    cache_write_tokens: 0,
    output_tokens: usage.completion_tokens,
    reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}

async function collect(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe('openai SDK AzureOpenAI through the gateway', () => {
  let stack;

  beforeEach(async () => {
    stack = await Stack.start();
  });

  afterEach(async () => {
    const problems = (await stack?.close()) ?? [];
    stack = undefined;
    assert.deepEqual(problems, [], 'the gateway and the mock exit cleanly on SIGTERM');
  });

  async function onlyAzureCall() {
    const calls = await stack.mockCalls();
    assert.equal(calls.length, 1);
    const [call] = calls;
    assert.equal(
      call.target,
      `/openai/deployments/azure-chat/chat/completions?api-version=${kApiVersion}`,
    );
    assert.equal(call.headers['api-key'], kUpstreamSecret);
    assert.ok(!JSON.stringify(call.headers).includes(kClientKey));
    assert.deepEqual(call.usage, kCanonicalUsage);
    return call;
  }

  async function bookedEvent(stream) {
    const events = await stack.waitForEvents(1);
    assert.equal(events.length, 1, `expected one cost event, got ${JSON.stringify(events)}`);
    const event = events[0].data;
    assert.equal(event.provider, 'azure_openai');
    assert.equal(event.upstream, 'azure');
    assert.equal(event.model_requested, 'gpt-test-azure');
    assert.equal(event.stream, stream);
    assert.equal(event.outcome, 'ok');
    assert.deepEqual(event.usage, kCanonicalUsage);
    assert.equal(event.usage_source, 'provider');
    assert.equal(event.priced, true);
    assert.equal(event.cost.total, kCostTotal);
    return event;
  }

  test('a chat completion on a deployment is booked at its mapped model price', async () => {
    const completion = await client(stack.gateway.url).chat.completions.create({
      model: 'azure-chat',
      messages: kMessages,
    });
    assert.equal(completion.choices[0].message.content.length, kContentLength);
    assert.deepEqual(canonical(completion.usage), kCanonicalUsage);
    assert.equal(completion.prompt_filter_results[0].prompt_index, 0);
    await onlyAzureCall();
    await bookedEvent(false);
  });

  test('streaming with include_usage skips the filter chunk and books the usage', async () => {
    const chunks = await collect(
      await client(stack.gateway.url).chat.completions.create({
        model: 'azure-chat',
        messages: kMessages,
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    // Azure's prompt-filter chunk, the role chunk, 6 content chunks, the finish, the usage.
    assert.equal(chunks.length, 10);
    assert.deepEqual(chunks[0].choices, []);
    assert.ok(chunks[0].prompt_filter_results);
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    assert.equal(text.length, kContentLength);
    assert.deepEqual(canonical(chunks.at(-1).usage), kCanonicalUsage);
    await onlyAzureCall();
    await bookedEvent(true);
  });

  test('streaming without stream_options is metered and the usage stays hidden', async () => {
    const chunks = await collect(
      await client(stack.gateway.url).chat.completions.create({
        model: 'azure-chat',
        messages: kMessages,
        stream: true,
      }),
    );
    assert.equal(chunks.length, 9);
    assert.ok(chunks.every((c) => c.usage === undefined || c.usage === null));
    const call = await onlyAzureCall();
    assert.equal(call.include_usage, true, 'the gateway asks for usage itself');
    await bookedEvent(true);
  });
});
