// Spend-control refusals as the official `openai` and `@anthropic-ai/sdk` npm SDKs see them:
// both throw their RateLimitError with the gateway's code; a budget refusal
// (x-should-retry: false) is sent exactly once although maxRetries allows more. Requests are
// counted by the SDK's own fetch (wrapped), at the gateway (/metrics, events) and at the mock
// (none). That the SDKs wait the Retry-After of a rate-limit refusal is shown with the Python
// SDKs (tests/integration/python/test_budgets.py), whose waits can be observed without sleeping.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';

import { importSdk, Stack } from './stack.mjs';

const { default: OpenAI, RateLimitError: OpenAiRateLimitError } = await importSdk('openai');
const { default: Anthropic, RateLimitError: AnthropicRateLimitError } =
  await importSdk('@anthropic-ai/sdk');

const kClientKey = 'tg-client-key';
// A hold of max_tokens output tokens past $0.01 is refused by the budget; more than 20 input
// tokens in a minute by the rate limit.
const kSpendYaml = `budgets:
  - { name: tiny-budget, scope: {}, period: month, limit_usd: "0.01" }
rate_limits:
  - { name: tiny-tpm, scope: {}, input_tokens_per_minute: 20 }
spend_state: { backend: local, file: "@DIR@/spend-state.tsv" }
`;
const kShort = [{ role: 'user', content: 'Hi' }]; // 5 input tokens
const kLong = [{ role: 'user', content: 'x'.repeat(240) }]; // 64 input tokens
const kRetries = 2;

// The SDK's fetch, counting the requests it sends.
function countingFetch() {
  const counting = async (...args) => {
    counting.requests += 1;
    return fetch(...args);
  };
  counting.requests = 0;
  return counting;
}

async function refusedEvents(stack, count, limit) {
  const events = (await stack.waitForEvents(count)).map((e) => e.data);
  assert.equal(events.length, count);
  for (const event of events) {
    assert.equal(event.outcome, 'rejected');
    assert.equal(event.status, 429);
    assert.equal(event.limit, limit);
  }
}

describe('budget and rate-limit refusals through the npm SDKs', () => {
  let stack;
  beforeEach(async () => {
    stack = await Stack.start(kSpendYaml);
  });
  afterEach(async () => {
    assert.deepEqual(await stack.close(), []);
  });

  test('openai: a budget refusal is a RateLimitError sent once', async () => {
    const fetch = countingFetch();
    const openai = new OpenAI({ baseURL: `${stack.gateway.url}/v1`, apiKey: kClientKey,
      maxRetries: kRetries, timeout: 15000, fetch });
    const error = await openai.chat.completions
      .create({ model: 'gpt-test-1', messages: kShort, max_tokens: 5000 })
      .then(() => null, (e) => e);
    assert.ok(error instanceof OpenAiRateLimitError, String(error));
    assert.equal(error.status, 429);
    assert.equal(error.code, 'budget_exceeded');
    assert.equal(error.headers.get('x-should-retry'), 'false');
    assert.equal(fetch.requests, 1);
    assert.equal(await stack.metric('tollgate_spend_refusals_total{code="budget_exceeded"}'), 1);
    assert.deepEqual(await stack.mockCalls(), []);
    await refusedEvents(stack, 1, 'tiny-budget');
  });

  test('openai: a rate-limit refusal is a RateLimitError with Retry-After', async () => {
    const openai = new OpenAI({ baseURL: `${stack.gateway.url}/v1`, apiKey: kClientKey,
      maxRetries: 0, timeout: 15000 });
    const error = await openai.chat.completions
      .create({ model: 'gpt-test-1', messages: kLong, max_tokens: 8 })
      .then(() => null, (e) => e);
    assert.ok(error instanceof OpenAiRateLimitError, String(error));
    assert.equal(error.code, 'rate_limited');
    const retryAfter = Number(error.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, String(retryAfter));
    assert.equal(error.headers.get('x-ratelimit-limit-tokens'), '20');
    assert.equal(error.headers.get('x-should-retry'), null);
    await refusedEvents(stack, 1, 'tiny-tpm');
  });

  test('anthropic: a budget refusal is a RateLimitError sent once', async () => {
    const fetch = countingFetch();
    const anthropic = new Anthropic({ baseURL: stack.gateway.url, apiKey: kClientKey,
      maxRetries: kRetries, timeout: 15000, fetch });
    const error = await anthropic.messages
      .create({ model: 'claude-test-1', messages: kShort, max_tokens: 4096 })
      .then(() => null, (e) => e);
    assert.ok(error instanceof AnthropicRateLimitError, String(error));
    assert.equal(error.error.error.type, 'rate_limit_error');
    assert.equal(error.error.error.code, 'budget_exceeded');
    assert.equal(fetch.requests, 1);
    assert.equal(await stack.metric('tollgate_spend_refusals_total{code="budget_exceeded"}'), 1);
    assert.deepEqual(await stack.mockCalls(), []);
    await refusedEvents(stack, 1, 'tiny-budget');
  });

  test('anthropic: a rate-limit refusal is a RateLimitError with Retry-After', async () => {
    const anthropic = new Anthropic({ baseURL: stack.gateway.url, apiKey: kClientKey,
      maxRetries: 0, timeout: 15000 });
    const error = await anthropic.messages
      .create({ model: 'claude-test-1', messages: kLong, max_tokens: 8 })
      .then(() => null, (e) => e);
    assert.ok(error instanceof AnthropicRateLimitError, String(error));
    assert.equal(error.error.error.code, 'rate_limited');
    const retryAfter = Number(error.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, String(retryAfter));
    await refusedEvents(stack, 1, 'tiny-tpm');
  });
});
