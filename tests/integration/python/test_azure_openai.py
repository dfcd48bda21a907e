"""The official `openai` Python SDK's AzureOpenAI client pointed at the gateway as its Azure
endpoint (nothing else changes): its api-key is the caller's key to the gateway, the upstream
gets the resource key the gateway is configured with, the deployment is priced as the model the
upstream's `deployments` names, and the cost event books exactly the usage the mock sent."""

import asyncio

import openai
import pytest

from stack import UPSTREAM_SECRET
from test_openai import CONTENT_BYTES, MESSAGES, MOCK_HEADERS, USAGE, assert_booked, chat_canonical

KEY = "tg-azure-client-key"
API_VERSION = "2024-10-21"


def client(stack, cls=openai.AzureOpenAI, headers=MOCK_HEADERS):
    return cls(azure_endpoint=stack.gateway.url, api_key=KEY, api_version=API_VERSION,
               max_retries=0, timeout=15, default_headers=headers)


def assert_azure_call(stack, deployment="azure-chat", operation="chat/completions"):
    call = stack.only_call()
    assert call["target"] == (f"/openai/deployments/{deployment}/{operation}"
                              f"?api-version={API_VERSION}")
    assert call["headers"]["api-key"] == UPSTREAM_SECRET
    assert KEY not in str(call["headers"])
    return call


def assert_azure_booked(stack, **kwargs):
    event = assert_booked(stack, **kwargs)
    assert event["provider"] == "azure_openai"
    assert event["upstream"] == "azure"
    return event


def test_chat_completion_usage_is_booked_at_the_mapped_models_price(stack):
    completion = client(stack).chat.completions.create(model="azure-chat", messages=MESSAGES)
    assert len(completion.choices[0].message.content) == CONTENT_BYTES
    assert chat_canonical(completion.usage) == USAGE
    assert completion.prompt_filter_results[0]["prompt_index"] == 0
    assert_azure_call(stack)
    event = assert_azure_booked(stack)
    assert event["model_requested"] == "gpt-test-azure"
    assert event["stream"] is False


def test_stream_with_include_usage_skips_the_filter_chunk_and_books_the_usage(stack):
    stream = client(stack).chat.completions.create(
        model="azure-chat", messages=MESSAGES, stream=True,
        stream_options={"include_usage": True})
    chunks = list(stream)
    # Azure's prompt-filter chunk, the role chunk, 6 content chunks, the finish, the usage.
    assert len(chunks) == 10
    assert chunks[0].choices == [] and chunks[0].prompt_filter_results
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(text) == CONTENT_BYTES
    assert chat_canonical(chunks[-1].usage) == USAGE
    assert_azure_call(stack)
    event = assert_azure_booked(stack)
    assert event["stream"] is True


def test_stream_without_include_usage_is_metered_and_the_usage_stays_hidden(stack):
    stream = client(stack).chat.completions.create(model="azure-chat", messages=MESSAGES,
                                                   stream=True)
    chunks = list(stream)
    assert len(chunks) == 9
    assert all(chunk.usage is None for chunk in chunks)
    assert assert_azure_call(stack)["include_usage"] is True, "the gateway asks for usage itself"
    assert_azure_booked(stack)


def test_async_stream_usage_is_booked_exactly(stack):
    async def call():
        async with client(stack, openai.AsyncAzureOpenAI) as api:
            stream = await api.chat.completions.create(
                model="azure-chat", messages=MESSAGES, stream=True,
                stream_options={"include_usage": True})
            return [chunk async for chunk in stream]

    chunks = asyncio.run(call())
    assert chat_canonical(chunks[-1].usage) == USAGE
    assert_azure_call(stack)
    assert assert_azure_booked(stack)["stream"] is True


def test_embeddings_on_a_deployment_are_booked_exactly(stack):
    api = client(stack, headers={"x-mock-prompt-tokens": "2000"})
    result = api.embeddings.create(model="azure-embed", input=["first text", "second text"])
    assert result.usage.prompt_tokens == 2000
    assert_azure_call(stack, deployment="azure-embed", operation="embeddings")
    usage = {"input_tokens": 2000, "cache_read_tokens": 0, "cache_write_tokens": 0,
             "output_tokens": 0, "reasoning_tokens": 0}
    assert_azure_booked(stack, usage=usage, cost_total="0.00004")


@pytest.mark.parametrize("stream", [False, True])
def test_an_upstream_429_reaches_the_sdk_as_rate_limit_error(stack, stream):
    api = client(stack, headers={"x-mock-status": "429"})
    with pytest.raises(openai.RateLimitError):
        api.chat.completions.create(model="azure-chat", messages=MESSAGES, stream=stream)
    event = stack.only_event()
    assert event["outcome"] == "upstream_error"
    assert event["status"] == 429
