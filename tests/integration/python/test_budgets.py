"""Spend-control refusals as the official `openai` and `anthropic` Python SDKs see them: both
raise their RateLimitError with the gateway's code; a budget refusal (x-should-retry: false) is
sent exactly once whatever max_retries allows; a rate-limit refusal is retried after exactly the
Retry-After the gateway sent (the SDK's sleeps are recorded, not slept, so the test stays short).

Requests are counted at the gateway (its refusal counter on /metrics, its cost events) and at
the mock (which must see none of them)."""

import types

import anthropic
import openai
import pytest

from stack import Stack

KEY = "tg-client-key"
# Every call is within the budget's scope ({}), so the only thing that refuses a call is what
# the test makes it exceed: a hold of max_tokens output tokens past $0.01, or more input tokens
# than the limit allows in a minute.
SPEND_YAML = """budgets:
  - { name: tiny-budget, scope: {}, period: month, limit_usd: "0.01" }
rate_limits:
  - { name: tiny-tpm, scope: {}, input_tokens_per_minute: 20 }
spend_state: { backend: local, file: "@DIR@/spend-state.tsv" }
"""
SHORT = [{"role": "user", "content": "Hi"}]  # 5 input tokens: within the rate limit
# 240 bytes: 60 input tokens (+4 for the message), past the 20 a minute the limit allows.
LONG = [{"role": "user", "content": "x" * 240}]
# Worst cases: 5000 x $12/M (gpt-test) and 4096 x $15/M (claude-test) are over $0.01; 8 output
# tokens are far under it.
OVER_BUDGET_OPENAI = 5000
OVER_BUDGET_ANTHROPIC = 4096
WITHIN_BUDGET = 8
RETRIES = 2


@pytest.fixture
def spend_stack():
    running = Stack.start(SPEND_YAML)
    yield running
    problems = running.close()
    assert problems == [], "the gateway and the mock exit cleanly on SIGTERM"


def openai_client(stack):
    return openai.OpenAI(base_url=f"{stack.gateway.url}/v1", api_key=KEY, max_retries=RETRIES,
                         timeout=15)


def anthropic_client(stack):
    return anthropic.Anthropic(base_url=stack.gateway.url, api_key=KEY, max_retries=RETRIES,
                               timeout=15)


class RetryRecorder:
    """Records each wait the SDK computes (with the Retry-After of the answer that caused it) and
    each sleep it then asks for; sleeps return at once."""

    def __init__(self, monkeypatch, client, sdk_base_client):
        self.waits = []  # (the answer's retry-after header, the SDK's computed wait)
        self.sleeps = []
        original = client._calculate_retry_timeout

        def calculate(remaining_retries, options, response_headers=None):
            wait = original(remaining_retries, options, response_headers)
            header = response_headers.get("retry-after") if response_headers is not None else None
            self.waits.append((header, wait))
            return wait

        monkeypatch.setattr(client, "_calculate_retry_timeout", calculate)
        real_time = sdk_base_client.time
        fake_time = types.SimpleNamespace(**{name: getattr(real_time, name)
                                             for name in dir(real_time)
                                             if not name.startswith("__")})
        fake_time.sleep = self.sleeps.append
        monkeypatch.setattr(sdk_base_client, "time", fake_time)


def refused_events(stack, count):
    events = [e["data"] for e in stack.wait_for_events(count)]
    assert len(events) == count, events
    for event in events:
        assert event["outcome"] == "rejected"
        assert event["status"] == 429
    return events


def assert_budget_refused_once(stack, error):
    assert error.status_code == 429
    assert error.response.headers["x-should-retry"] == "false"
    # One request reached the gateway, none the upstream.
    assert stack.metric('tollgate_spend_refusals_total{code="budget_exceeded"}') == 1
    assert stack.mock_calls() == []
    (event,) = refused_events(stack, 1)
    assert event["limit"] == "tiny-budget"


def assert_rate_limited_retried_after_retry_after(stack, error, recorder):
    assert error.status_code == 429
    assert "x-should-retry" not in error.response.headers
    assert error.response.headers["x-ratelimit-limit-tokens"] == "20"
    retry_after = int(error.response.headers["retry-after"])
    assert 1 <= retry_after <= 60  # the end of the current minute
    # Each retry waited what the answer before it said, not the SDK's own backoff (0.5 s, 1 s).
    assert len(recorder.waits) == RETRIES, recorder.waits
    for header, wait in recorder.waits:
        assert header is not None and wait == float(header), recorder.waits
    assert recorder.sleeps == [wait for _, wait in recorder.waits]
    # max_retries bounds it: the first request and RETRIES retries, none upstream.
    assert stack.metric('tollgate_spend_refusals_total{code="rate_limited"}') == RETRIES + 1
    assert stack.mock_calls() == []
    for event in refused_events(stack, RETRIES + 1):
        assert event["limit"] == "tiny-tpm"


def test_openai_sdk_raises_rate_limit_error_on_a_budget_and_sends_it_once(spend_stack):
    with pytest.raises(openai.RateLimitError) as raised:
        openai_client(spend_stack).chat.completions.create(
            model="gpt-test-1", messages=SHORT, max_tokens=OVER_BUDGET_OPENAI)
    assert raised.value.code == "budget_exceeded"
    assert_budget_refused_once(spend_stack, raised.value)


def test_openai_sdk_retries_a_rate_limit_after_retry_after_then_raises(spend_stack, monkeypatch):
    client = openai_client(spend_stack)
    recorder = RetryRecorder(monkeypatch, client, openai._base_client)
    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(model="gpt-test-1", messages=LONG,
                                       max_tokens=WITHIN_BUDGET)
    assert raised.value.code == "rate_limited"
    assert_rate_limited_retried_after_retry_after(spend_stack, raised.value, recorder)


def test_anthropic_sdk_raises_rate_limit_error_on_a_budget_and_sends_it_once(spend_stack):
    with pytest.raises(anthropic.RateLimitError) as raised:
        anthropic_client(spend_stack).messages.create(
            model="claude-test-1", messages=SHORT, max_tokens=OVER_BUDGET_ANTHROPIC)
    assert raised.value.body["error"]["type"] == "rate_limit_error"
    assert raised.value.body["error"]["code"] == "budget_exceeded"
    assert_budget_refused_once(spend_stack, raised.value)


def test_anthropic_sdk_retries_a_rate_limit_after_retry_after_then_raises(spend_stack,
                                                                          monkeypatch):
    client = anthropic_client(spend_stack)
    recorder = RetryRecorder(monkeypatch, client, anthropic._base_client)
    with pytest.raises(anthropic.RateLimitError) as raised:
        client.messages.create(model="claude-test-1", messages=LONG, max_tokens=WITHIN_BUDGET)
    assert raised.value.body["error"]["code"] == "rate_limited"
    assert_rate_limited_retried_after_retry_after(spend_stack, raised.value, recorder)
