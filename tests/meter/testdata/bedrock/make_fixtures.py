#!/usr/bin/env python3
"""Writes the Bedrock Runtime fixtures of this folder (run it from here; output is committed).

Message shapes follow AWS's Bedrock Runtime API reference (Converse, ConverseStream,
ConverseStreamOutput, TokenUsage, InvokeModel, InvokeModelWithResponseStream); the binary framing
follows AWS's event stream encoding (docs.aws.amazon.com/transcribe/latest/dg/event-stream.html):
prelude (total length, headers length, CRC32), string headers (type 7), payload, message CRC32.
CRCs come from Python's zlib.crc32, independent of the meter's own CRC32.
"""
import base64
import json
import struct
import zlib

PAD = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0"  # Bedrock's "p" padding member


def header(name, value):
    n, v = name.encode(), value.encode()
    return struct.pack(">B", len(n)) + n + b"\x07" + struct.pack(">H", len(v)) + v


def message(headers, payload):
    hs = b"".join(header(k, v) for k, v in headers)
    total = 12 + len(hs) + len(payload) + 4
    prelude = struct.pack(">II", total, len(hs))
    head = prelude + struct.pack(">I", zlib.crc32(prelude)) + hs + payload
    return head + struct.pack(">I", zlib.crc32(head))


def event(event_type, body):
    payload = json.dumps(body, separators=(",", ":")).encode()
    return message([(":event-type", event_type), (":content-type", "application/json"),
                    (":message-type", "event")], payload)


def error_message(code, text):
    return message([(":error-code", code), (":error-message", text),
                    (":message-type", "error")], b"")


def exception(exception_type, text):
    payload = json.dumps({"message": text}, separators=(",", ":")).encode()
    return message([(":exception-type", exception_type), (":content-type", "application/json"),
                    (":message-type", "exception")], payload)


USAGE = {"inputTokens": 1200, "outputTokens": 350, "totalTokens": 6850,
         "cacheReadInputTokens": 4800, "cacheWriteInputTokens": 500}
TEXT = ["Bonjour", " ! Paris est", " la capitale de la France."]


def converse_stream(with_metadata=True, fail=False):
    out = event("messageStart", {"p": PAD, "role": "assistant"})
    for piece in TEXT:
        out += event("contentBlockDelta",
                     {"contentBlockIndex": 0, "delta": {"text": piece}, "p": PAD[:7]})
        if fail:
            return out + exception("modelStreamErrorException",
                                   "The model stream encountered an error.")
    out += event("contentBlockStop", {"contentBlockIndex": 0, "p": PAD[:12]})
    out += event("messageStop", {"p": PAD[:3], "stopReason": "end_turn"})
    if with_metadata:
        out += event("metadata", {"metrics": {"latencyMs": 812}, "p": PAD[:20], "usage": USAGE})
    return out


def converse_stream_tool_use():
    out = event("messageStart", {"p": PAD, "role": "assistant"})
    out += event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {
        "reasoningContent": {"text": "The user wants \"the weather\" \u2603."}}, "p": PAD[:4]})
    out += event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {
        "reasoningContent": {"signature": "EqoBCkgIAxABGAIiQ"}}, "p": PAD[:9]})
    out += event("contentBlockStop", {"contentBlockIndex": 0, "p": PAD[:12]})
    out += event("contentBlockStart", {"contentBlockIndex": 1, "p": PAD[:6], "start": {
        "toolUse": {"name": "top_song", "toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q"}}})
    for piece in ['{"sign":', ' "WZPZ"}']:
        out += event("contentBlockDelta", {"contentBlockIndex": 1, "delta": {
            "toolUse": {"input": piece}}, "p": PAD[:2]})
    out += event("contentBlockDelta", {"p": PAD[:3], "delta": {"text": "Line\nbreak \u00e9"},
                                       "contentBlockIndex": 2})
    out += event("messageStop", {"p": PAD[:3], "stopReason": "tool_use"})
    return out + event("metadata", {"metrics": {"latencyMs": 1310}, "p": PAD[:20],
                                    "usage": {"inputTokens": 375, "outputTokens": 62,
                                              "totalTokens": 437}})


def anthropic_invoke_stream():
    events = [
        {"type": "message_start", "message": {
            "id": "msg_bdrk_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-20250514", "content": [], "stop_reason": None,
            "usage": {"input_tokens": 1200, "cache_creation_input_tokens": 500,
                      "cache_read_input_tokens": 4800, "output_tokens": 1}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ] + [{"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}}
         for t in TEXT] + [
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
         "usage": {"output_tokens": 350}},
        {"type": "message_stop", "amazon-bedrock-invocationMetrics": {
            "inputTokenCount": 1200, "outputTokenCount": 350, "invocationLatency": 812,
            "firstByteLatency": 301, "cacheReadInputTokenCount": 4800,
            "cacheWriteInputTokenCount": 500}},
    ]
    out = b""
    for e in events:
        raw = json.dumps(e, separators=(",", ":")).encode()
        out += event("chunk", {"bytes": base64.b64encode(raw).decode(), "p": PAD[:5]})
    return out


def main():
    with open("converse_stream.bin", "wb") as f:
        f.write(converse_stream())
    with open("converse_stream_cut_before_metadata.bin", "wb") as f:
        f.write(converse_stream(with_metadata=False))
    with open("converse_stream_exception.bin", "wb") as f:
        f.write(converse_stream(fail=True))
    with open("converse_stream_error_message.bin", "wb") as f:
        f.write(event("messageStart", {"role": "assistant"})
                + error_message("InternalFailure", "An internal error occurred."))
    with open("converse_stream_tool_use.bin", "wb") as f:
        f.write(converse_stream_tool_use())
    with open("invoke_stream_anthropic.bin", "wb") as f:
        f.write(anthropic_invoke_stream())
    with open("converse.json", "w") as f:
        json.dump({"metrics": {"latencyMs": 812},
                   "output": {"message": {"content": [{"text": "".join(TEXT)}],
                                          "role": "assistant"}},
                   "stopReason": "end_turn", "usage": USAGE}, f, indent=2)
        f.write("\n")
    with open("converse_tool_use.json", "w") as f:
        json.dump({"output": {"message": {"role": "assistant", "content": [
            {"reasoningContent": {"reasoningText": {"text": "The user wants the weather.",
                                                    "signature": "EqoBCkgIAxABGAIiQ"}}},
            {"toolUse": {"toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "name": "top_song",
                         "input": {"sign": "WZPZ"}}}]}},
            "stopReason": "tool_use",
            "usage": {"inputTokens": 375, "outputTokens": 62, "totalTokens": 437},
            "metrics": {"latencyMs": 1310}}, f, indent=2)
        f.write("\n")
    with open("invoke_anthropic.json", "w") as f:
        json.dump({"id": "msg_bdrk_01XFDUDYJgAACzvnptvVoYEL", "type": "message",
                   "role": "assistant", "model": "claude-sonnet-4-20250514",
                   "content": [{"type": "text", "text": "".join(TEXT)}],
                   "stop_reason": "end_turn", "stop_sequence": None,
                   "usage": {"input_tokens": 1200, "cache_creation_input_tokens": 500,
                             "cache_read_input_tokens": 4800, "output_tokens": 350}}, f, indent=2)
        f.write("\n")
    with open("error_throttling.json", "w") as f:
        f.write('{"message":"Too many requests, please wait before trying again."}\n')
    with open("error_validation_typed.json", "w") as f:
        f.write('{"__type":"com.amazon.coral.validate#ValidationException",'
                '"message":"The provided model identifier is invalid."}\n')


if __name__ == "__main__":
    main()
