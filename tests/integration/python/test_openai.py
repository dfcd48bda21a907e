"""The official `openai` Python SDK pointed at the gateway as a user would (only base_url changes;
the SDK keeps asking for gzip): its parsed result is the mock's answer and the cost event books
exactly the usage the mock sent."""

import asyncio

import openai
import pytest

KEY = "tg-client-key"
MESSAGES = [{"role": "user", "content": "Say hello"}]
# 1500 prompt (300 cache reads) and 400 completion (100 reasoning) tokens. gpt-test* prices
# neither cache reads nor reasoning separately: 1500 x 3 / 1M + 400 x 12 / 1M = 0.0093.
MOCK_HEADERS = {
    "x-mock-prompt-tokens": "1500",
    "x-mock-cached-tokens": "300",
    "x-mock-completion-tokens": "400",
    "x-mock-reasoning-tokens": "100",
    "x-mock-chunks": "6",
    "x-team": "fraud-platform",
}
USAGE = {
    "input_tokens": 1500,
    "cache_read_tokens": 300,
    "cache_write_tokens": 0,
    "output_tokens": 400,
    "reasoning_tokens": 100,
}
COST_TOTAL = "0.0093"
CONTENT_BYTES = 400 * 4  # the mock writes 4 content bytes per completion token


def client(base_url, cls=openai.OpenAI):
    return cls(base_url=f"{base_url}/v1", api_key=KEY, max_retries=0, timeout=15,
               default_headers=MOCK_HEADERS)


def chat_canonical(usage):
    return {
        "input_tokens": usage.prompt_tokens,
        "cache_read_tokens": usage.prompt_tokens_details.cached_tokens,
        "cache_write_tokens": 0,
        "output_tokens": usage.completion_tokens,
        "reasoning_tokens": usage.completion_tokens_details.reasoning_tokens,
    }


def assert_booked(stack, usage=USAGE, cost_total=COST_TOTAL):
    call = stack.only_call()
    assert call["usage"] == usage
    event = stack.only_event()
    assert event["usage"] == call["usage"]
    assert event["usage_source"] == "provider"
    assert event["outcome"] == "ok"
    assert event["priced"] is True
    assert event["cost"]["total"] == cost_total
    return event


def test_sdk_asks_for_compression_and_the_mock_compresses(stack):
    # The premise of this suite, checked without the gateway.
    completion = client(stack.mock.url).chat.completions.create(model="gpt-test-1",
                                                                messages=MESSAGES)
    assert len(completion.choices[0].message.content) == CONTENT_BYTES
    call = stack.only_call()
    assert "gzip" in call["headers"]["accept-encoding"]
    assert call["encoding"] == ("gzip" if stack.mock_encoding == "auto" else "identity")


def test_sync_chat_completion_usage_is_booked_exactly(stack):
    raw = client(stack.gateway.url).chat.completions.with_raw_response.create(
        model="gpt-test-1", messages=MESSAGES)
    completion = raw.parse()
    assert completion.choices[0].message.content.startswith("the fox ran far ")
    assert len(completion.choices[0].message.content) == CONTENT_BYTES
    assert completion.usage.prompt_tokens == 1500
    assert completion.usage.total_tokens == 1900
    assert chat_canonical(completion.usage) == USAGE
    event = assert_booked(stack)
    assert event["request_id"] == raw.headers["x-request-id"]
    assert event["stream"] is False
    assert event["team"] == "fraud-platform"


def test_async_chat_completion_usage_is_booked_exactly(stack):
    async def call():
        async with client(stack.gateway.url, openai.AsyncOpenAI) as api:
            return await api.chat.completions.create(model="gpt-test-1", messages=MESSAGES)

    completion = asyncio.run(call())
    assert len(completion.choices[0].message.content) == CONTENT_BYTES
    assert chat_canonical(completion.usage) == USAGE
    assert_booked(stack)


def test_stream_with_include_usage_delivers_and_books_the_usage(stack):
    stream = client(stack.gateway.url).chat.completions.create(
        model="gpt-test-1", messages=MESSAGES, stream=True,
        stream_options={"include_usage": True})
    chunks = list(stream)
    # Role chunk, 6 content chunks, the finish chunk, the usage chunk.
    assert len(chunks) == 9
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(text) == CONTENT_BYTES
    assert chunks[-1].choices == []
    assert chat_canonical(chunks[-1].usage) == USAGE
    event = assert_booked(stack)
    assert event["stream"] is True


def test_stream_without_include_usage_is_metered_and_the_usage_chunk_stays_hidden(stack):
    stream = client(stack.gateway.url).chat.completions.create(
        model="gpt-test-1", messages=MESSAGES, stream=True)
    chunks = list(stream)
    assert len(chunks) == 8
    assert all(chunk.usage is None for chunk in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert stack.only_call()["include_usage"] is True, "the gateway asks for usage itself"
    assert_booked(stack)


def test_async_stream_usage_is_booked_exactly(stack):
    async def call():
        async with client(stack.gateway.url, openai.AsyncOpenAI) as api:
            stream = await api.chat.completions.create(
                model="gpt-test-1", messages=MESSAGES, stream=True,
                stream_options={"include_usage": True})
            return [chunk async for chunk in stream]

    chunks = asyncio.run(call())
    assert chat_canonical(chunks[-1].usage) == USAGE
    assert_booked(stack)


def responses_canonical(usage):
    return {
        "input_tokens": usage.input_tokens,
        "cache_read_tokens": usage.input_tokens_details.cached_tokens,
        "cache_write_tokens": 0,
        "output_tokens": usage.output_tokens,
        "reasoning_tokens": usage.output_tokens_details.reasoning_tokens,
    }


def test_responses_api_usage_is_booked_exactly(stack):
    response = client(stack.gateway.url).responses.create(model="gpt-test-1", input="Say hello")
    assert response.id == "resp_mock_0"
    assert response.status == "completed"
    assert len(response.output_text) == CONTENT_BYTES
    assert responses_canonical(response.usage) == USAGE
    assert_booked(stack)


def test_responses_api_stream_books_the_completed_usage(stack):
    events = list(client(stack.gateway.url).responses.create(model="gpt-test-1",
                                                              input="Say hello", stream=True))
    types = [event.type for event in events]
    assert types[0] == "response.created"
    assert types[-1] == "response.completed"
    assert types.count("response.output_text.delta") == 6
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert len(text) == CONTENT_BYTES
    assert responses_canonical(events[-1].response.usage) == USAGE
    assert_booked(stack)


def test_embeddings_usage_is_booked_exactly(stack):
    api = openai.OpenAI(base_url=f"{stack.gateway.url}/v1", api_key=KEY, max_retries=0,
                        timeout=15, default_headers={"x-mock-prompt-tokens": "2000"})
    result = api.embeddings.create(model="text-embedding-test-1",
                                   input=["first text", "second text", "third"])
    assert [item.index for item in result.data] == [0, 1, 2]
    # The SDK asked for base64 by default and decoded it to floats.
    assert all(len(item.embedding) == 8 for item in result.data)
    assert all(-1.0 <= value <= 1.0 for item in result.data for value in item.embedding)
    assert result.usage.prompt_tokens == 2000
    assert result.usage.total_tokens == 2000
    usage = {"input_tokens": 2000, "cache_read_tokens": 0, "cache_write_tokens": 0,
             "output_tokens": 0, "reasoning_tokens": 0}
    assert_booked(stack, usage=usage, cost_total="0.00004")


@pytest.mark.parametrize("stream", [False, True])
def test_an_upstream_429_reaches_the_sdk_as_rate_limit_error(stack, stream):
    api = openai.OpenAI(base_url=f"{stack.gateway.url}/v1", api_key=KEY, max_retries=0,
                        timeout=15, default_headers={"x-mock-status": "429"})
    with pytest.raises(openai.RateLimitError) as raised:
        api.chat.completions.create(model="gpt-test-1", messages=MESSAGES, stream=stream)
    assert raised.value.code == "rate_limit_exceeded"
    event = stack.only_event()
    assert event["status"] == 429
    assert event["usage"]["input_tokens"] == 0
