"""A stream that spend control cuts, or whose upstream fails, as the official SDKs see it: each
ends or raises a clear error, never hangs (the clients' timeout fails the test) and never reports
a complete answer."""

import anthropic
import openai
import pytest

from stack import Stack

KEY = "tg-client-key"
MESSAGES = [{"role": "user", "content": "Hi"}]
# $0.01 buys a few hundred output tokens: the stream of 2000 tokens (200 events, 1 ms apart)
# starts under a hold of 100 output tokens and runs out of budget on the way.
BUDGET_YAML = """budgets:
  - { name: team-cap, scope: { team: fraud }, limit_usd: "0.01", streams: cut }
spend_state: { backend: local, default_output_tokens: 100, file: "@DIR@/spend.tsv" }
"""
LONG_STREAM = {
    "x-team": "fraud",
    "x-mock-prompt-tokens": "5",
    "x-mock-completion-tokens": "2000",
    "x-mock-chunks": "200",
    "x-mock-chunk-delay-ms": "1",
}
FULL_TEXT_BYTES = 2000 * 4  # the mock writes 4 content bytes per completion token


@pytest.fixture
def budget_stack():
    running = Stack.start(BUDGET_YAML)
    yield running
    assert running.close() == [], "the gateway and the mock exit cleanly on SIGTERM"


def openai_client(stack, headers):
    return openai.OpenAI(base_url=f"{stack.gateway.url}/v1", api_key=KEY, max_retries=0,
                         timeout=15, default_headers=headers)


def anthropic_client(stack, headers):
    return anthropic.Anthropic(base_url=stack.gateway.url, api_key=KEY, max_retries=0,
                               timeout=15, default_headers=headers)


def assert_cut_booked(stack):
    event = stack.only_event()
    assert event["outcome"] == "budget_cut"
    assert event["usage_source"] == "estimated"
    assert 0 < event["usage"]["output_tokens"] < 2000
    return event


def test_openai_chat_stream_cut_ends_with_finish_reason_length(budget_stack):
    client = openai_client(budget_stack, LONG_STREAM)
    text = ""
    finished = []
    for chunk in client.chat.completions.create(model="gpt-test-1", messages=MESSAGES,
                                                stream=True):
        for choice in chunk.choices:
            text += choice.delta.content or ""
            if choice.finish_reason:
                finished.append((choice.finish_reason, chunk))
    assert len(finished) == 1
    reason, last = finished[0]
    assert reason == "length", "a cut answer never says stop"
    assert last.model_extra["tollgate"]["outcome"] == "budget_cut"
    assert last.model_extra["tollgate"]["limit"] == "team-cap"
    assert 0 < len(text) < FULL_TEXT_BYTES
    event = assert_cut_booked(budget_stack)
    # The estimate counts what was relayed: 4 bytes a token, as the mock writes.
    assert event["usage"]["output_tokens"] >= len(text) // 4


def test_openai_responses_stream_cut_is_incomplete_never_completed(budget_stack):
    client = openai_client(budget_stack, LONG_STREAM)
    with client.responses.stream(model="gpt-test-1", input="Hi") as stream:
        events = [event.type for event in stream]
        assert events[-1] == "response.incomplete"
        assert "response.completed" not in events
        with pytest.raises(RuntimeError, match="response.completed"):
            stream.get_final_response()
    assert_cut_booked(budget_stack)


def test_openai_responses_raw_stream_cut_reports_incomplete_status(budget_stack):
    client = openai_client(budget_stack, LONG_STREAM)
    last = None
    for event in client.responses.create(model="gpt-test-1", input="Hi", stream=True):
        last = event
    assert last.type == "response.incomplete"
    assert last.response.status == "incomplete"
    assert last.response.incomplete_details.reason == "max_output_tokens"
    assert_cut_booked(budget_stack)


def test_anthropic_stream_cut_raises_a_clear_error(budget_stack):
    client = anthropic_client(budget_stack, LONG_STREAM)
    text = ""
    with pytest.raises(anthropic.APIStatusError) as raised:
        with client.messages.stream(model="claude-test-1", max_tokens=100,
                                    messages=MESSAGES) as stream:
            for piece in stream.text_stream:
                text += piece
    assert "team-cap" in str(raised.value)
    assert "rate_limit_error" in str(raised.value)
    assert 0 < len(text) < FULL_TEXT_BYTES
    assert_cut_booked(budget_stack)


RESET_MID_STREAM = {"x-mock-chunks": "8", "x-mock-reset-after": "3"}


def test_openai_chat_stream_whose_upstream_resets_raises_an_api_error(stack):
    client = openai_client(stack, RESET_MID_STREAM)
    with pytest.raises(openai.APIError, match="incomplete"):
        for _ in client.chat.completions.create(model="gpt-test-1", messages=MESSAGES,
                                                stream=True):
            pass
    assert stack.only_event()["outcome"] == "upstream_error"


def test_anthropic_stream_whose_upstream_resets_raises_an_api_error(stack):
    client = anthropic_client(stack, RESET_MID_STREAM)
    with pytest.raises(anthropic.APIStatusError, match="incomplete"):
        with client.messages.stream(model="claude-test-1", max_tokens=100,
                                    messages=MESSAGES) as stream:
            for _ in stream.text_stream:
                pass
    assert stack.only_event()["outcome"] == "upstream_error"
