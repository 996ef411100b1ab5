"""The Realtime session kind: each conversation is a ``RealtimeSession`` of the agent.

``RealtimeKind(agent, config=..., model_config=..., transport=...)`` opens, per page, a session
through ``transports.runner.run`` (over ``transport()`` when given: the in-memory fake, a
recording tap...; else the WebSocket that ``model_config`` names). Its ``RealtimePageSession``
maps the page's commands onto the session and the session's events onto page messages
(``timeline.PageTimeline``):

- ``audio`` -> ``send_audio``; ``audio_played`` -> ``audio_played`` (so a barge-in truncates
  at what the page played); ``interrupt`` -> ``interrupt``; ``text`` -> ``send_message``;
  ``approve_tool`` / ``reject_tool``;
- ``push_to_talk`` pressed: turn detection off (``session.update``), the input buffer cleared,
  the assistant interrupted; released: the turn committed (the session asks for the answer),
  and the session's own turn detection back on (none, if it had none).

The page speaks PCM16 at 24 kHz both ways, so a configuration with another audio format is
refused when the kind is made.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
from realtime_sansio.protocol import (
    PCM16,
    Agent,
    ModelConfig,
    RunConfig,
    SessionModelSettings,
    TurnDetectionConfig,
)

from ..base import Transport
from ..runner import RealtimeSession, run
from ..subscriptions import SlowSubscriberError
from .bridge import Deliver, PageSession
from .commands import (
    ApproveTool,
    AudioIn,
    AudioPlayed,
    Command,
    CommandError,
    Interrupt,
    PushToTalk,
    RejectTool,
    SendText,
)
from .timeline import PageTimeline

__all__ = ["RealtimeKind", "RealtimePageSession"]

_SERVER_VAD = TurnDetectionConfig(type="server_vad")


def _hands_free(config: RunConfig | None) -> TurnDetectionConfig | None:
    """The turn detection to restore after push-to-talk: the configuration's, or the
    server's default (server VAD) when it says nothing."""
    if config is None or not config.model_settings.is_set("turn_detection"):
        return _SERVER_VAD
    detection = config.model_settings.turn_detection
    return detection if isinstance(detection, TurnDetectionConfig) else None


class RealtimePageSession:
    """One page's conversation over a running ``RealtimeSession`` (a ``PageSession``)."""

    def __init__(
        self,
        session: RealtimeSession,
        *,
        hands_free: TurnDetectionConfig | None,
        description: dict[str, Any],
    ) -> None:
        self.session = session
        self._hands_free = hands_free
        self._description = description
        self._talking = False

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "realtime",
            "agent": self.session.current_agent.name,
            "audio": {"format": "pcm16", "rate": PCM16.rate},
            "push_to_talk_only": self._hands_free is None,
            "controls": {"interrupt": True, "push_to_talk": True, "text": True},
            **self._description,
        }

    async def run(self, deliver: Deliver) -> None:
        timeline = PageTimeline()
        start = anyio.current_time()
        try:
            async for event in self.session:
                for message in timeline.messages(event, at=anyio.current_time() - start):
                    await deliver(message)
        except SlowSubscriberError as exc:  # the page fell too far behind: say so, end
            await deliver({"type": "error", "source": "bridge", "code": None, "message": str(exc)})
            text = "the page could not keep up with the conversation"
            await deliver({"type": "closed", "code": None, "reason": "", "text": text})

    async def handle(self, command: Command) -> None:
        session = self.session
        if isinstance(command, AudioIn):
            await session.send_audio(command.pcm)
        elif isinstance(command, AudioPlayed):
            await session.audio_played(command.item_id, command.content_index, command.ms)
        elif isinstance(command, Interrupt):
            await session.interrupt()
        elif isinstance(command, SendText):
            await session.send_message(command.text)
        elif isinstance(command, PushToTalk):
            await self._push_to_talk(command.pressed)
        elif isinstance(command, ApproveTool):
            await session.approve_tool(command.call_id)
        elif isinstance(command, RejectTool):
            await session.reject_tool(command.call_id)
        else:
            raise CommandError(f"a Realtime conversation cannot {type(command).__name__}")

    async def _push_to_talk(self, pressed: bool) -> None:
        if pressed == self._talking:
            return  # a repeated press or release (a second pointer) changes nothing
        self._talking = pressed
        session = self.session
        if pressed:
            await session.update_session(SessionModelSettings(turn_detection=None))
            await session.clear_audio()
            await session.interrupt()
            return
        await session.send_audio(b"", commit=True)  # turn detection is off: this asks the answer
        if self._hands_free is not None:
            await session.update_session(SessionModelSettings(turn_detection=self._hands_free))


def _check_format(config: RunConfig | None) -> None:
    if config is None:
        return
    settings = config.model_settings
    for name in ("input_audio_format", "output_audio_format"):
        fmt = getattr(settings, name)
        if settings.is_set(name) and fmt != PCM16:
            raise ValueError(f"the page speaks PCM16 at 24 kHz; the configuration sets {name}")


class RealtimeKind:
    """Opens a ``RealtimePageSession`` per conversation (a ``SessionKind``).

    ``target`` and ``hint`` are shown on the page (where the model is; how to talk to it).
    """

    def __init__(
        self,
        agent: Agent,
        *,
        config: RunConfig | None = None,
        model_config: ModelConfig | None = None,
        transport: Callable[[], Transport] | None = None,
        target: str = "the OpenAI Realtime API",
        hint: str | None = None,
    ) -> None:
        _check_format(config)
        self.agent = agent
        self.config = config
        self.model_config = model_config
        self.transport = transport
        self.target = target
        self.hint = hint

    @property
    def name(self) -> str:
        """Who answers, for the command's first line."""
        return self.agent.name

    def __call__(self) -> AbstractAsyncContextManager[PageSession]:
        return self._open()

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[PageSession]:
        transport = self.transport() if self.transport is not None else None
        async with run(
            self.agent, config=self.config, model_config=self.model_config, transport=transport
        ) as session:
            yield RealtimePageSession(
                session,
                hands_free=_hands_free(self.config),
                description={"target": self.target, "hint": self.hint},
            )
