"""The official `anthropic` Python SDK pointed at the gateway (only base_url changes; it keeps
asking for gzip): the parsed message is the mock's and the cost event books exactly its usage,
prompt-cache reads and writes included."""

import anthropic

KEY = "tg-client-key"
REQUEST = {
    "model": "claude-test-1",
    "max_tokens": 512,
    "messages": [{"role": "user", "content": "Say hello"}],
}
# claude-test*: 3.00 input, 0.30 cache read, 3.75 cache write, 15.00 output per 1M tokens.
PLAIN_HEADERS = {"x-mock-prompt-tokens": "3000", "x-mock-completion-tokens": "200",
                 "x-mock-chunks": "5"}
PLAIN_USAGE = {"input_tokens": 3000, "cache_read_tokens": 0, "cache_write_tokens": 0,
               "output_tokens": 200, "reasoning_tokens": 0}
# 3000 input tokens of which 1000 cache reads and 500 cache writes, passed per request the way
# a user passes anything extra: extra_headers.
CACHE_HEADERS = {**PLAIN_HEADERS, "x-mock-cached-tokens": "1000",
                 "x-mock-cache-write-tokens": "500"}
CACHE_USAGE = {**PLAIN_USAGE, "cache_read_tokens": 1000, "cache_write_tokens": 500}
CONTENT_BYTES = 200 * 4


def client(base_url):
    return anthropic.Anthropic(base_url=base_url, api_key=KEY, max_retries=0, timeout=15)


def canonical(usage):
    written = usage.cache_creation_input_tokens or 0
    read = usage.cache_read_input_tokens or 0
    return {
        "input_tokens": usage.input_tokens + written + read,
        "cache_read_tokens": read,
        "cache_write_tokens": written,
        "output_tokens": usage.output_tokens,
        "reasoning_tokens": 0,
    }


def assert_booked(stack, usage, cost_total):
    call = stack.only_call()
    assert call["usage"] == usage
    assert "x-api-key" not in call["headers"], "the client key is not forwarded"
    event = stack.only_event()
    assert event["provider"] == "anthropic"
    assert event["usage"] == call["usage"]
    assert event["usage_source"] == "provider"
    assert event["outcome"] == "ok"
    assert event["cost"]["total"] == cost_total
    return event


def test_messages_create_usage_is_booked_exactly(stack):
    message = client(stack.gateway.url).messages.create(**REQUEST, extra_headers=PLAIN_HEADERS)
    assert message.id == "msg_mock_0"
    assert message.stop_reason == "end_turn"
    assert len(message.content[0].text) == CONTENT_BYTES
    assert message.usage.input_tokens == 3000
    assert canonical(message.usage) == PLAIN_USAGE
    # 3000 x 3 / 1M + 200 x 15 / 1M
    event = assert_booked(stack, PLAIN_USAGE, "0.012")
    assert event["stream"] is False


def test_prompt_caching_usage_is_booked_with_each_part_priced_once(stack):
    message = client(stack.gateway.url).messages.create(**REQUEST, extra_headers=CACHE_HEADERS)
    # Anthropic's input_tokens excludes the cache.
    assert message.usage.input_tokens == 1500
    assert message.usage.cache_read_input_tokens == 1000
    assert message.usage.cache_creation_input_tokens == 500
    assert message.usage.cache_creation.ephemeral_5m_input_tokens == 500
    assert canonical(message.usage) == CACHE_USAGE
    event = assert_booked(stack, CACHE_USAGE, "0.009675")
    assert event["cost"]["cache_read"] == "0.0003"
    assert event["cost"]["cache_write"] == "0.001875"


def test_streaming_events_and_the_cumulative_usage_are_booked(stack):
    stream = client(stack.gateway.url).messages.create(**REQUEST, stream=True,
                                                       extra_headers=CACHE_HEADERS)
    events = list(stream)
    types = [event.type for event in events]
    assert types[:3] == ["message_start", "content_block_start", "content_block_delta"]
    assert types.count("content_block_delta") == 5
    assert types[-2:] == ["message_delta", "message_stop"]
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta")
    assert len(text) == CONTENT_BYTES
    start, delta = events[0].message.usage, events[-2].usage
    assert start.cache_read_input_tokens == 1000
    assert delta.output_tokens == 200
    event = assert_booked(stack, CACHE_USAGE, "0.009675")
    assert event["stream"] is True


def test_stream_helper_final_message_usage_equals_the_booked_usage(stack):
    with client(stack.gateway.url).messages.stream(**REQUEST, extra_headers=CACHE_HEADERS) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert len(text) == CONTENT_BYTES
    assert canonical(final.usage) == CACHE_USAGE
    assert_booked(stack, CACHE_USAGE, "0.009675")


def test_an_overloaded_error_mid_stream_reaches_the_sdk(stack):
    headers = {**PLAIN_HEADERS, "x-mock-error-mid-stream": "2"}
    stream = client(stack.gateway.url).messages.create(**REQUEST, stream=True,
                                                       extra_headers=headers)
    received = []
    try:
        for event in stream:
            received.append(event.type)
        raise AssertionError(f"no error after {received}")
    except anthropic.APIStatusError as error:
        assert "Overloaded" in str(error)
    assert received.count("content_block_delta") == 2
    event = stack.only_event()
    assert event["outcome"] == "upstream_error"
