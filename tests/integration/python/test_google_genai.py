"""The official `google-genai` SDK pointed at the gateway through http_options' base_url (it keeps
its default compression): the parsed response is the mock's Gemini answer and the cost event
books exactly its usage."""

from google import genai
from google.genai import types

KEY = "tg-client-key"
MODEL = "gemini-test-1"
# 2000 prompt tokens (400 cached) and 300 output tokens of which 100 are thoughts.
MOCK_HEADERS = {
    "x-mock-prompt-tokens": "2000",
    "x-mock-cached-tokens": "400",
    "x-mock-completion-tokens": "300",
    "x-mock-reasoning-tokens": "100",
    "x-mock-chunks": "3",
}
USAGE = {"input_tokens": 2000, "cache_read_tokens": 400, "cache_write_tokens": 0,
         "output_tokens": 300, "reasoning_tokens": 100}
# gemini-test*: 1.25 input, 0.125 cache read, 10.00 output per 1M tokens:
# 1600 x 1.25 + 400 x 0.125 + 300 x 10 = 2000 + 50 + 3000 per 1M.
COST_TOTAL = "0.00505"
CONTENT_BYTES = 300 * 4


def client(base_url):
    return genai.Client(api_key=KEY, http_options=types.HttpOptions(
        base_url=base_url, headers=MOCK_HEADERS, timeout=15_000))


def canonical(usage):
    return {
        "input_tokens": usage.prompt_token_count,
        "cache_read_tokens": usage.cached_content_token_count or 0,
        "cache_write_tokens": 0,
        "output_tokens": usage.candidates_token_count + (usage.thoughts_token_count or 0),
        "reasoning_tokens": usage.thoughts_token_count or 0,
    }


def assert_booked(stack):
    call = stack.only_call()
    assert call["dialect"] == "gemini"
    assert call["model"] == MODEL
    assert call["usage"] == USAGE
    event = stack.only_event()
    assert event["provider"] == "gemini"
    assert event["model"] == MODEL
    assert event["usage"] == call["usage"]
    assert event["usage_source"] == "provider"
    assert event["outcome"] == "ok"
    assert event["cost"]["total"] == COST_TOTAL
    return call, event


def test_generate_content_usage_is_booked_exactly(stack):
    # The Client closes its HTTP client when collected: it must outlive the call.
    api = client(stack.gateway.url)
    response = api.models.generate_content(model=MODEL, contents="Say hello")
    assert len(response.text) == CONTENT_BYTES
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    assert response.response_id == "mock-0"
    assert response.usage_metadata.total_token_count == 2300
    assert canonical(response.usage_metadata) == USAGE
    call, event = assert_booked(stack)
    assert call["stream"] is False
    assert event["stream"] is False


def test_generate_content_stream_books_the_final_usage(stack):
    api = client(stack.gateway.url)
    chunks = list(api.models.generate_content_stream(model=MODEL, contents="Say hello"))
    # 3 content chunks, then the final one with finishReason and the full usage.
    assert len(chunks) == 4
    assert len("".join(chunk.text or "" for chunk in chunks)) == CONTENT_BYTES
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert canonical(chunks[-1].usage_metadata) == USAGE
    call, event = assert_booked(stack)
    assert call["stream"] is True
    assert call["target"].endswith(":streamGenerateContent?alt=sse")
    assert event["stream"] is True
