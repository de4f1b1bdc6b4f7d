"""The second real model server (llama-cpp-python serving SmolLM2) through the real openai SDK."""

import time

import openai
import pytest


@pytest.fixture
def sdk(llama_server):
    client = openai.OpenAI(base_url=llama_server.base_url, api_key="none", max_retries=0, timeout=300)
    yield client
    client.close()


def stream_chat(sdk, model, prompt, **kwargs):
    """(content pieces with the seconds each arrived after the request, chunks) of one streamed answer."""
    started = time.monotonic()
    pieces, chunks = [], []
    for chunk in sdk.chat.completions.create(model=model, stream=True, temperature=0,
                                             messages=[{"role": "user", "content": prompt}], **kwargs):
        chunks.append(chunk)
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append((time.monotonic() - started, choice.delta.content))
    return pieces, chunks


def test_lists_its_model(sdk, llama_server):
    assert [m.id for m in sdk.models.list()] == [llama_server.model]


def test_streams_a_chat_completion_in_chunks(sdk, llama_server):
    pieces, chunks = stream_chat(sdk, llama_server.model, "Name three Kubernetes objects.",
                                 max_tokens=32, stream_options={"include_usage": True})
    text = "".join(piece for _, piece in pieces)
    assert len(pieces) >= 5, text
    assert text.strip()
    assert chunks[-1].choices and chunks[-1].choices[0].finish_reason in {"stop", "length"}
    # llama-cpp-python ignores stream_options: no chunk carries usage, so a plan written by it
    # has no token counts (the app leaves them empty).
    assert all(chunk.usage is None for chunk in chunks)


def test_decoding_speed(sdk, llama_server):
    # min_tokens (a llama-cpp-python extension) holds back the end of text, so exactly 200 come.
    pieces, chunks = stream_chat(sdk, llama_server.model,
                                 "Explain step by step how to debug a pod in CrashLoopBackOff.",
                                 max_tokens=200, extra_body={"min_tokens": 200})
    assert chunks[-1].choices[0].finish_reason == "length"
    assert len(pieces) >= 150  # one token a chunk, except multi-byte characters split across tokens
    first, last = pieces[0][0], pieces[-1][0]
    print(f"\nllama-cpp-python + SmolLM2-135M Q4_1: {len(pieces)} chunks, first after {first:.2f}s, "
          f"{(len(pieces) - 1) / (last - first):.1f} tokens/s after it, {last:.2f}s in all")
