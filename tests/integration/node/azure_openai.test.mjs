// The official `openai` npm SDK's AzureOpenAI client pointed at the gateway as its Azure
// endpoint (nothing else changes): its api-key is the caller's key to the gateway, the upstream
// gets the resource key the gateway is configured with, the deployment is priced as the model
// the upstream's `deployments` names, and the cost event books exactly what the mock sent.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  canonicalChatUsage,
  chatContent,
  collect,
  kOpenAiContentLength,
  kOpenAiMockHeaders,
  kOpenAiUsage,
  kSdkOptions,
  kStreamWithUsage,
  onlyEvent,
  stackPerTest,
} from './sdk_helpers.mjs';
import { importSdk, kUpstreamSecret } from './stack.mjs';

const { AzureOpenAI } = await importSdk('openai');

const kClientKey = 'tg-azure-client-key';
const kApiVersion = '2024-10-21';
const kRequest = { model: 'azure-chat', messages: [{ role: 'user', content: 'Say hello' }] };
// gpt-test* (the price of the deployment's model, gpt-test-azure): 1500 x 3 / 1M + 400 x 12 / 1M.
const kCostTotal = '0.0093';

function client(endpoint) {
  return new AzureOpenAI({
    ...kSdkOptions,
    endpoint,
    apiKey: kClientKey,
    apiVersion: kApiVersion,
    defaultHeaders: kOpenAiMockHeaders,
  });
}

describe('openai SDK AzureOpenAI through the gateway', () => {
  const stack = stackPerTest();

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
    assert.deepEqual(call.usage, kOpenAiUsage);
    return call;
  }

  async function bookedEvent(stream) {
    const event = await onlyEvent(stack);
    assert.equal(event.provider, 'azure_openai');
    assert.equal(event.upstream, 'azure');
    assert.equal(event.model_requested, 'gpt-test-azure');
    assert.equal(event.stream, stream);
    assert.equal(event.outcome, 'ok');
    assert.deepEqual(event.usage, kOpenAiUsage);
    assert.equal(event.usage_source, 'provider');
    assert.equal(event.priced, true);
    assert.equal(event.cost.total, kCostTotal);
    return event;
  }

  test('a chat completion on a deployment is booked at its mapped model price', async () => {
    const completion = await client(stack.gateway.url).chat.completions.create(kRequest);
    assert.equal(completion.choices[0].message.content.length, kOpenAiContentLength);
    assert.deepEqual(canonicalChatUsage(completion.usage), kOpenAiUsage);
    assert.equal(completion.prompt_filter_results[0].prompt_index, 0);
    await onlyAzureCall();
    await bookedEvent(false);
  });

  test('streaming with include_usage skips the filter chunk and books the usage', async () => {
    const chunks = await collect(
      await client(stack.gateway.url).chat.completions.create({ ...kRequest, ...kStreamWithUsage }),
    );
    // Azure's prompt-filter chunk, the role chunk, 6 content chunks, the finish, the usage.
    assert.equal(chunks.length, 10);
    assert.deepEqual(chunks[0].choices, []);
    assert.ok(chunks[0].prompt_filter_results);
    assert.equal(chatContent(chunks).length, kOpenAiContentLength);
    assert.deepEqual(canonicalChatUsage(chunks.at(-1).usage), kOpenAiUsage);
    await onlyAzureCall();
    await bookedEvent(true);
  });

  test('streaming without stream_options is metered and the usage stays hidden', async () => {
    const chunks = await collect(
      await client(stack.gateway.url).chat.completions.create({ ...kRequest, stream: true }),
    );
    assert.equal(chunks.length, 9);
    assert.ok(chunks.every((c) => c.usage === undefined || c.usage === null));
    const call = await onlyAzureCall();
    assert.equal(call.include_usage, true, 'the gateway asks for usage itself');
    await bookedEvent(true);
  });
});
