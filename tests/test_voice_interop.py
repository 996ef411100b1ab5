"""The fake's speech endpoints with clients nobody here wrote: the ``openai`` package, and
openai-agents' voice models and its whole ``VoicePipeline``, pointed at ``serve_fake``.

Every answer is parsed by the client's own types; the audio is compared byte for byte with
the fake's synthesiser. (openai-agents runs on asyncio only; the openai client on both.)
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator

import anyio
import numpy as np
import openai
import pytest
from openai.types.audio import Transcription, TranscriptionVerbose
from realtime_sansio.protocol.audio import write_wav
from realtime_sansio.protocol.fake.voice import synthesize_speech
from voice_helpers import fake_server, utterances

pytestmark = pytest.mark.anyio

QUESTION = "What is the weather like?"


def wav_file() -> bytes:
    out = io.BytesIO()
    write_wav(out, utterances(QUESTION), 24000)
    return out.getvalue()


async def test_the_openai_client_transcribes_in_every_response_format() -> None:
    transcripts = {0: QUESTION, 1: QUESTION, 2: QUESTION}
    async with fake_server(transcripts) as base, contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(
            openai.AsyncOpenAI(base_url=f"{base}/v1", api_key="unused")
        )
        upload = ("question.wav", wav_file(), "audio/wav")
        with anyio.fail_after(20):
            as_json = await client.audio.transcriptions.create(
                model="gpt-4o-transcribe", file=upload, language="en", prompt="weather"
            )
            as_text = await client.audio.transcriptions.create(
                model="gpt-4o-mini-transcribe", file=upload, response_format="text"
            )
            verbose = await client.audio.transcriptions.create(
                model="whisper-1", file=upload, response_format="verbose_json"
            )
    assert isinstance(as_json, Transcription) and as_json.text == QUESTION
    assert as_json.usage is not None and as_json.usage.type == "tokens"
    assert as_text.strip() == QUESTION
    assert isinstance(verbose, TranscriptionVerbose) and verbose.text == QUESTION
    assert verbose.duration == pytest.approx(len(utterances(QUESTION)) / 48000)


async def test_the_openai_client_streams_speech_as_pcm() -> None:
    text = "Sunny and mild, with a light breeze."
    async with fake_server() as base, contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(
            openai.AsyncOpenAI(base_url=f"{base}/v1", api_key="unused")
        )
        chunks: list[bytes] = []
        with anyio.fail_after(20):
            async with client.audio.speech.with_streaming_response.create(
                model="gpt-4o-mini-tts",
                voice="nova",
                input=text,
                response_format="pcm",
                instructions="Cheerful.",
                speed=1.1,
            ) as response:
                async for chunk in response.iter_bytes():
                    chunks.append(chunk)
    assert b"".join(chunks) == synthesize_speech(text)
    assert len(chunks) > 1  # streamed, not one body


async def test_the_openai_client_reads_the_fakes_errors() -> None:
    async with fake_server() as base, contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(
            openai.AsyncOpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0)
        )
        with anyio.fail_after(20):
            with pytest.raises(openai.BadRequestError) as refused:
                await client.audio.speech.create(
                    model="gpt-4o-mini-tts", voice="nova", input="x" * 5000, response_format="pcm"
                )
            assert refused.value.code == "string_above_max_length"
            with pytest.raises(openai.BadRequestError, match="Invalid file format"):
                await client.audio.transcriptions.create(
                    model="gpt-4o-transcribe", file=("notes.txt", b"hello", "text/plain")
                )


ASYNCIO_ONLY = pytest.mark.parametrize("anyio_backend", ["asyncio"])


@ASYNCIO_ONLY
async def test_openai_agents_voice_models_against_the_fake() -> None:
    agents_voice = pytest.importorskip("agents.voice")
    from agents.voice.models.openai_stt import OpenAISTTModel
    from agents.voice.models.openai_tts import OpenAITTSModel

    async with fake_server({0: QUESTION}) as base, contextlib.AsyncExitStack() as stack:
        client = openai.AsyncOpenAI(base_url=f"{base}/v1", api_key="unused")
        await stack.enter_async_context(client)
        stt = OpenAISTTModel("gpt-4o-transcribe", client)
        tts = OpenAITTSModel("gpt-4o-mini-tts", client)
        audio = agents_voice.AudioInput(buffer=np.frombuffer(utterances(QUESTION), np.int16))
        with anyio.fail_after(20):
            text = await stt.transcribe(audio, agents_voice.STTModelSettings(), False, False)
            spoken = b"".join(
                [c async for c in tts.run("It is sunny.", agents_voice.TTSModelSettings())]
            )
    assert text == QUESTION
    assert spoken == synthesize_speech("It is sunny.")


@ASYNCIO_ONLY
async def test_openai_agents_whole_pipeline_against_the_fake() -> None:
    agents_voice = pytest.importorskip("agents.voice")
    from agents.voice.models.openai_stt import OpenAISTTModel
    from agents.voice.models.openai_tts import OpenAITTSModel

    class Echo(agents_voice.VoiceWorkflowBase):  # type: ignore[misc]
        async def run(self, transcription: str) -> AsyncIterator[str]:
            yield f"You said: {transcription}"

    async with fake_server({0: QUESTION}) as base, contextlib.AsyncExitStack() as stack:
        client = openai.AsyncOpenAI(base_url=f"{base}/v1", api_key="unused")
        await stack.enter_async_context(client)
        pipeline = agents_voice.VoicePipeline(
            workflow=Echo(),
            stt_model=OpenAISTTModel("gpt-4o-transcribe", client),
            tts_model=OpenAITTSModel("gpt-4o-mini-tts", client),
            config=agents_voice.VoicePipelineConfig(tracing_disabled=True),
        )
        audio = agents_voice.AudioInput(buffer=np.frombuffer(utterances(QUESTION), np.int16))
        pcm = bytearray()
        kinds: list[str] = []
        with anyio.fail_after(20):
            result = await pipeline.run(audio)
            async for event in result.stream():
                kinds.append(event.type)
                if event.type == "voice_stream_event_audio" and event.data is not None:
                    pcm += np.asarray(event.data, dtype=np.int16).tobytes()
    assert "voice_stream_event_error" not in kinds
    assert kinds[-1] == "voice_stream_event_lifecycle"
    # Their pipeline speaks our fake's audio (it may regroup it into its own chunks).
    expected = synthesize_speech(f"You said: {QUESTION}")
    assert bytes(pcm[: len(expected)]) == expected
