// The official `openai` SDK's Responses API through the gateway: the response and the streamed
// events are the mock's, and the usage of the terminal event is booked.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  canonicalResponsesUsage,
  collect,
  kOpenAiMockHeaders,
  kOpenAiUsage,
  kSdkOptions,
  onlyEvent,
  stackPerTest,
} from './sdk_helpers.mjs';
import { importSdk } from './stack.mjs';

const { default: OpenAI } = await importSdk('openai');

function client(baseURL) {
  return new OpenAI({
    ...kSdkOptions,
    baseURL: `${baseURL}/v1`,
    defaultHeaders: { ...kOpenAiMockHeaders, 'x-mock-chunks': '4', 'x-team': 'search' },
  });
}

describe('openai SDK Responses API through the gateway', () => {
  const stack = stackPerTest();

  test('responses.create: the response is the mock\'s and its usage is booked', async () => {
    const request = { model: 'gpt-test-1', input: 'Say hello' };
    const expected = await client(stack.mock.url).responses.create(request);
    const response = await client(stack.gateway.url).responses.create(request);
    assert.deepEqual(response, expected);
    assert.deepEqual(canonicalResponsesUsage(response.usage), kOpenAiUsage);

    const event = await onlyEvent(stack);
    assert.equal(event.operation, 'responses');
    assert.equal(event.endpoint, '/v1/responses');
    assert.deepEqual(event.usage, kOpenAiUsage);
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
    assert.deepEqual(canonicalResponsesUsage(completed.response.usage), kOpenAiUsage);

    const event = await onlyEvent(stack);
    assert.equal(event.stream, true);
    assert.deepEqual(event.usage, kOpenAiUsage);
    assert.equal(event.usage_source, 'provider');
    assert.equal(event.cost.total, '0.0093');
  });
});
