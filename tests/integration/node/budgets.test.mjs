// Spend-control refusals as the official `openai` and `@anthropic-ai/sdk` npm SDKs see them:
// both throw their RateLimitError with the gateway's code; a budget refusal
// (x-should-retry: false) is sent exactly once although maxRetries allows more. Requests are
// counted by the SDK's own fetch (wrapped), at the gateway (/metrics, events) and at the mock
// (none). That the SDKs wait the Retry-After of a rate-limit refusal is shown with the Python
// SDKs (tests/integration/python/test_budgets.py), whose waits can be observed without sleeping.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { kSdkOptions, rejectionOf, stackPerTest } from './sdk_helpers.mjs';
import { importSdk } from './stack.mjs';

const { default: OpenAI, RateLimitError: OpenAiRateLimitError } = await importSdk('openai');
const { default: Anthropic, RateLimitError: AnthropicRateLimitError } =
  await importSdk('@anthropic-ai/sdk');

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

// The rate limit's window is a minute: the refusal's Retry-After falls within it.
function assertRetryAfterWithinTheMinute(error) {
  const retryAfter = Number(error.headers.get('retry-after'));
  assert.ok(retryAfter >= 1 && retryAfter <= 60, String(retryAfter));
}

describe('budget and rate-limit refusals through the npm SDKs', () => {
  const stack = stackPerTest(kSpendYaml);

  // The one request the SDK sent was refused by the budget before any upstream saw it.
  async function assertSentOnceAndRefusedByBudget(fetch) {
    assert.equal(fetch.requests, 1);
    assert.equal(await stack.metric('tollgate_spend_refusals_total{code="budget_exceeded"}'), 1);
    assert.deepEqual(await stack.mockCalls(), []);
    await refusedEvents(stack, 1, 'tiny-budget');
  }

  test('openai: a budget refusal is a RateLimitError sent once', async () => {
    const fetch = countingFetch();
    const openai = new OpenAI({
      ...kSdkOptions, baseURL: `${stack.gateway.url}/v1`, maxRetries: kRetries, fetch,
    });
    const error = await rejectionOf(
      openai.chat.completions.create({ model: 'gpt-test-1', messages: kShort, max_tokens: 5000 }),
    );
    assert.ok(error instanceof OpenAiRateLimitError, String(error));
    assert.equal(error.status, 429);
    assert.equal(error.code, 'budget_exceeded');
    assert.equal(error.headers.get('x-should-retry'), 'false');
    await assertSentOnceAndRefusedByBudget(fetch);
  });

  test('openai: a rate-limit refusal is a RateLimitError with Retry-After', async () => {
    const openai = new OpenAI({ ...kSdkOptions, baseURL: `${stack.gateway.url}/v1` });
    const error = await rejectionOf(
      openai.chat.completions.create({ model: 'gpt-test-1', messages: kLong, max_tokens: 8 }),
    );
    assert.ok(error instanceof OpenAiRateLimitError, String(error));
    assert.equal(error.code, 'rate_limited');
    assertRetryAfterWithinTheMinute(error);
    assert.equal(error.headers.get('x-ratelimit-limit-tokens'), '20');
    assert.equal(error.headers.get('x-should-retry'), null);
    await refusedEvents(stack, 1, 'tiny-tpm');
  });

  test('anthropic: a budget refusal is a RateLimitError sent once', async () => {
    const fetch = countingFetch();
    const anthropic = new Anthropic({
      ...kSdkOptions, baseURL: stack.gateway.url, maxRetries: kRetries, fetch,
    });
    const error = await rejectionOf(
      anthropic.messages.create({ model: 'claude-test-1', messages: kShort, max_tokens: 4096 }),
    );
    assert.ok(error instanceof AnthropicRateLimitError, String(error));
    assert.equal(error.error.error.type, 'rate_limit_error');
    assert.equal(error.error.error.code, 'budget_exceeded');
    await assertSentOnceAndRefusedByBudget(fetch);
  });

  test('anthropic: a rate-limit refusal is a RateLimitError with Retry-After', async () => {
    const anthropic = new Anthropic({ ...kSdkOptions, baseURL: stack.gateway.url });
    const error = await rejectionOf(
      anthropic.messages.create({ model: 'claude-test-1', messages: kLong, max_tokens: 8 }),
    );
    assert.ok(error instanceof AnthropicRateLimitError, String(error));
    assert.equal(error.error.error.code, 'rate_limited');
    assertRetryAfterWithinTheMinute(error);
    await refusedEvents(stack, 1, 'tiny-tpm');
  });
});
