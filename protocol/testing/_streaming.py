"""The server model's conversation and its responses, streamed one step at a time.

A response's script is turned into a plan when it starts: one entry per step (an item added,
a content part added, one delta, a part done, an item done, the response done). Each entry
becomes events only when it is stepped, so ids and ``previous_item_id`` are those of the
moment, as on the real server, and a cancellation can stop the plan anywhere.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable
from typing import Any

import attrs

from .. import wire
from .scripts import ResponseScript, ScriptAudio, ScriptCall, ScriptText, chunks

__all__ = ["ResponseRun", "Streamer"]

_Entry = tuple[str, int, Any]  # (what, output index, data)


@attrs.define(kw_only=True, eq=False)
class ResponseRun:
    """One response while it streams."""

    id: str
    conversation_id: str | None
    script: ResponseScript
    origin: str | None
    """The ``event_id`` of the ``response.create`` that asked for it; None if server-made."""
    resource: dict[str, Any]
    """The response resource's fixed fields (modalities, audio, metadata...)."""
    bytes_per_ms: float
    plan: deque[_Entry] = attrs.Factory(deque)
    items: dict[int, dict[str, Any]] = attrs.Factory(dict)  # output index -> the live item
    open_parts: set[int] = attrs.Factory(set)
    done_items: set[int] = attrs.Factory(set)
    deltas: int = 0

    @property
    def out_of_band(self) -> bool:
        return self.conversation_id is None


def _plan(run: ResponseRun) -> deque[_Entry]:
    plan: deque[_Entry] = deque()
    for index, output in enumerate(run.script.outputs):
        plan.append(("item", index, None))
        if isinstance(output, ScriptText):
            plan.append(("part", index, {"type": "output_text", "text": ""}))
            plan.extend(("text", index, c) for c in chunks(output.text, output.chunk))
            plan.append(("part_done", index, None))
        elif isinstance(output, ScriptAudio):
            plan.append(("part", index, {"type": "output_audio", "transcript": ""}))
            texts = chunks(output.transcript, output.transcript_chunk)
            sizes = _audio_chunks(output, run.bytes_per_ms)
            for i in range(max(len(texts), len(sizes))):
                piece = (texts[i] if i < len(texts) else "", sizes[i] if i < len(sizes) else 0)
                plan.append(("audio", index, piece))
            plan.append(("part_done", index, None))
        else:
            plan.extend(("args", index, c) for c in chunks(output.arguments, output.chunk))
            plan.append(("args_done", index, None))
        plan.append(("item_done", index, None))
    plan.append(("done", -1, None))
    return plan


def _audio_chunks(output: ScriptAudio, bytes_per_ms: float) -> list[int]:
    total = int(output.duration_ms * bytes_per_ms)
    size = max(1, int(output.chunk_ms * bytes_per_ms))
    sizes = [size] * (total // size)
    if total % size:
        sizes.append(total % size)
    return sizes


def _event_part(part: dict[str, Any]) -> dict[str, Any]:
    """A content part as ``response.content_part.*`` shows it: GA names the part types there
    ``text`` and ``audio``, while the item itself holds ``output_text``/``output_audio``."""
    return {**part, "type": part["type"].removeprefix("output_")}


class Streamer:
    """Ids, the conversation, and the responses that stream into it."""

    def __init__(
        self,
        *,
        close_cancelled_items: bool = True,
        id_factory: Callable[[str], str] | None = None,
    ) -> None:
        self._id_factory = id_factory
        self.close_cancelled_items = close_cancelled_items
        """On cancellation, close the items it cut short (``response.output_item.done`` and
        ``conversation.item.done``, status ``incomplete``); False leaves them unannounced."""
        self._counters: dict[str, int] = {}
        self.conversation_id = self.new_id("conv")
        self._items: dict[str, dict[str, Any]] = {}
        self._order: list[str] = []
        self._audio_bytes: dict[str, tuple[int, float]] = {}  # item -> (bytes, bytes per ms)
        self._runs: dict[str, ResponseRun] = {}  # active responses, oldest first
        self.response_origins: dict[str, str | None] = {}
        """Every response made: the ``event_id`` of the ``response.create`` behind it, or
        None for a server-made one (VAD)."""
        self.ended_responses: list[str] = []
        """The default conversation's responses that have ended, in order."""

    def new_id(self, prefix: str) -> str:
        """A fresh id: from the injected factory (given the prefix), else ``<prefix>_<n>``."""
        if self._id_factory is not None:
            return self._id_factory(prefix)
        count = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = count
        return f"{prefix}_{count}"

    # -- the conversation ------------------------------------------------------------------------

    @property
    def conversation(self) -> tuple[str, ...]:
        """The ids of the conversation's items, in order."""
        return tuple(self._order)

    @property
    def last_item_id(self) -> str | None:
        return self._order[-1] if self._order else None

    def item(self, item_id: str) -> dict[str, Any] | None:
        """A copy of an item of the conversation, or None."""
        item = self._items.get(item_id)
        return None if item is None else copy.deepcopy(item)

    def items(self) -> list[dict[str, Any]]:
        """Copies of the conversation's items, in order."""
        return [copy.deepcopy(self._items[i]) for i in self._order]

    def previous_of(self, item_id: str) -> str | None:
        index = self._order.index(item_id)
        return self._order[index - 1] if index else None

    def add_item(self, item: dict[str, Any], previous: str | None) -> list[wire.ServerEvent]:
        """Insert ``item`` after ``previous`` (first when None): its ``conversation.item.added``."""
        item_id = item["id"]
        self._items[item_id] = item
        self._order.insert(0 if previous is None else self._order.index(previous) + 1, item_id)
        return [
            wire.ConversationItemAdded(
                event_id=self.new_id("event"), previous_item_id=previous, item=copy.deepcopy(item)
            )
        ]

    def item_done(self, item_id: str) -> wire.ConversationItemDone:
        return wire.ConversationItemDone(
            event_id=self.new_id("event"),
            previous_item_id=self.previous_of(item_id),
            item=copy.deepcopy(self._items[item_id]),
        )

    def remove_item(self, item_id: str) -> None:
        del self._items[item_id]
        self._order.remove(item_id)

    def update_part(self, item_id: str, index: int, **fields: Any) -> None:
        self._items[item_id]["content"][index].update(fields)

    def audio_ms(self, item_id: str) -> float:
        """How much audio the model has produced for an item."""
        nbytes, per_ms = self._audio_bytes.get(item_id, (0, 1.0))
        return nbytes / per_ms

    # -- responses -------------------------------------------------------------------------------

    @property
    def active_response_id(self) -> str | None:
        """The active response of the default conversation, if any."""
        return next((r.id for r in self._runs.values() if not r.out_of_band), None)

    @property
    def active_response_ids(self) -> tuple[str, ...]:
        """Every active response, out-of-band ones too, oldest first."""
        return tuple(self._runs)

    def run(self, response_id: str | None) -> ResponseRun | None:
        return None if response_id is None else self._runs.get(response_id)

    def begin(self, run: ResponseRun) -> list[wire.ServerEvent]:
        """Start a response: its ``response.created``; ``step`` streams the rest."""
        run.plan = _plan(run)
        self._runs[run.id] = run
        self.response_origins[run.id] = run.origin
        return [wire.ResponseCreated(event_id=self.new_id("event"), response=self._resource(run))]

    def step(self, response_id: str | None = None) -> list[wire.ServerEvent]:
        """Advance one response (the oldest active one by default) by one step."""
        run = self._runs.get(response_id) if response_id else next(iter(self._runs.values()), None)
        if run is None:
            return []
        what, index, data = run.plan.popleft()
        if what == "done":
            status = "failed" if run.script.failure else "completed"
            return self._finish(run, "incomplete" if run.script.incomplete else status)
        return getattr(self, "_do_" + what)(run, index, data)  # type: ignore[no-any-return]

    def cancel(self, run: ResponseRun, *, reason: str) -> list[wire.ServerEvent]:
        """End a response now: its open parts and items close ``incomplete``."""
        out: list[wire.ServerEvent] = []
        for index in sorted(run.items):
            if index in run.done_items or not self.close_cancelled_items:
                continue
            if index in run.open_parts:
                out += self._do_part_done(run, index, None)
            out += self._close_item(run, index, "incomplete")
        return out + self._finish(run, "cancelled", reason=reason)

    def error(
        self, code: str, message: str, event_id: str | None, *, param: str | None = None
    ) -> wire.ServerError:
        """An ``error`` event; ``event_id`` is the client event's, echoed."""
        return wire.ServerError(
            event_id=self.new_id("event"),
            error=wire.ErrorDetail(
                type="invalid_request_error",
                code=code,
                message=message,
                param=param,
                event_id=event_id,
            ),
        )

    def _resource(self, run: ResponseRun, status: str = "in_progress") -> dict[str, Any]:
        return {
            "id": run.id,
            **copy.deepcopy(run.resource),
            "status": status,
            "status_details": None,
            "output": [copy.deepcopy(run.items[i]) for i in sorted(run.items)],
            "conversation_id": run.conversation_id,
            "usage": None,
        }

    def _finish(
        self, run: ResponseRun, status: str, *, reason: str | None = None
    ) -> list[wire.ServerEvent]:
        del self._runs[run.id]
        run.plan.clear()
        if not run.out_of_band:
            self.ended_responses.append(run.id)
        resource = self._resource(run, status)
        if status == "cancelled":
            resource["status_details"] = {"type": "cancelled", "reason": reason}
        elif status == "incomplete":
            resource["status_details"] = {"type": "incomplete", "reason": run.script.incomplete}
        elif status == "failed":
            error = {
                "type": "server_error",
                "code": run.script.failure,
                "message": "The server had an error while processing your request.",
            }
            resource["status_details"] = {"type": "failed", "error": error}
        inputs, outputs = 20 + 5 * len(self._order), 4 + run.deltas
        resource["usage"] = {
            "total_tokens": inputs + outputs,
            "input_tokens": inputs,
            "output_tokens": outputs,
            "input_token_details": {"text_tokens": inputs, "audio_tokens": 0, "cached_tokens": 0},
            "output_token_details": {"text_tokens": outputs, "audio_tokens": 0},
        }
        limits = [
            {"name": "requests", "limit": 1000, "remaining": 999, "reset_seconds": 0.06},
            {
                "name": "tokens",
                "limit": 50_000,
                "remaining": 50_000 - outputs,
                "reset_seconds": 1.0,
            },
        ]
        return [
            wire.ResponseDone(event_id=self.new_id("event"), response=resource),
            wire.RateLimitsUpdated(event_id=self.new_id("event"), rate_limits=limits),
        ]

    # -- the plan's steps ------------------------------------------------------------------------

    def _ids(self, run: ResponseRun, index: int) -> dict[str, Any]:
        return {
            "event_id": self.new_id("event"),
            "response_id": run.id,
            "item_id": run.items[index]["id"],
            "output_index": index,
        }

    def _do_item(self, run: ResponseRun, index: int, data: Any) -> list[wire.ServerEvent]:
        output = run.script.outputs[index]
        item: dict[str, Any] = {
            "id": self.new_id("item"),
            "object": "realtime.item",
            "status": "in_progress",
        }
        if isinstance(output, ScriptCall):
            item.update(
                type="function_call",
                call_id=self.new_id("call"),
                name=output.name,
                arguments="",
            )
        else:
            item.update(type="message", role="assistant", content=[])
        run.items[index] = item
        out: list[wire.ServerEvent] = [
            wire.ResponseOutputItemAdded(
                event_id=self.new_id("event"),
                response_id=run.id,
                output_index=index,
                item=copy.deepcopy(item),
            )
        ]
        if not run.out_of_band:
            out += self.add_item(item, self.last_item_id)
        return out

    def _do_part(self, run: ResponseRun, index: int, part: Any) -> list[wire.ServerEvent]:
        run.items[index]["content"].append(dict(part))
        run.open_parts.add(index)
        return [
            wire.ResponseContentPartAdded(
                **self._ids(run, index), content_index=0, part=_event_part(part)
            )
        ]

    def _do_text(self, run: ResponseRun, index: int, text: Any) -> list[wire.ServerEvent]:
        run.items[index]["content"][0]["text"] += text
        run.deltas += 1
        return [wire.ResponseOutputTextDelta(**self._ids(run, index), content_index=0, delta=text)]

    def _do_audio(self, run: ResponseRun, index: int, piece: Any) -> list[wire.ServerEvent]:
        text, nbytes = piece
        part = run.items[index]["content"][0]
        item_id = run.items[index]["id"]
        out: list[wire.ServerEvent] = []
        if text:
            part["transcript"] += text
            out.append(
                wire.ResponseOutputAudioTranscriptDelta(
                    **self._ids(run, index), content_index=0, delta=text
                )
            )
        if nbytes:
            produced, _ = self._audio_bytes.get(item_id, (0, run.bytes_per_ms))
            self._audio_bytes[item_id] = (produced + nbytes, run.bytes_per_ms)
            out.append(
                wire.ResponseOutputAudioDelta(
                    **self._ids(run, index), content_index=0, delta=bytes(nbytes)
                )
            )
        run.deltas += 1
        return out

    def _do_part_done(self, run: ResponseRun, index: int, data: Any) -> list[wire.ServerEvent]:
        run.open_parts.discard(index)
        part = copy.deepcopy(run.items[index]["content"][0])
        out: list[wire.ServerEvent] = []
        if part["type"] == "output_text":
            out.append(
                wire.ResponseOutputTextDone(
                    **self._ids(run, index), content_index=0, text=part["text"]
                )
            )
        else:
            out.append(wire.ResponseOutputAudioDone(**self._ids(run, index), content_index=0))
            out.append(
                wire.ResponseOutputAudioTranscriptDone(
                    **self._ids(run, index), content_index=0, transcript=part["transcript"]
                )
            )
        out.append(
            wire.ResponseContentPartDone(
                **self._ids(run, index), content_index=0, part=_event_part(part)
            )
        )
        return out

    def _do_args(self, run: ResponseRun, index: int, text: Any) -> list[wire.ServerEvent]:
        item = run.items[index]
        item["arguments"] += text
        run.deltas += 1
        return [
            wire.ResponseFunctionCallArgumentsDelta(
                **self._ids(run, index), call_id=item["call_id"], delta=text
            )
        ]

    def _do_args_done(self, run: ResponseRun, index: int, data: Any) -> list[wire.ServerEvent]:
        item = run.items[index]
        return [
            wire.ResponseFunctionCallArgumentsDone(
                **self._ids(run, index),
                call_id=item["call_id"],
                name=item["name"],
                arguments=item["arguments"],
            )
        ]

    def _do_item_done(self, run: ResponseRun, index: int, data: Any) -> list[wire.ServerEvent]:
        # A response cut short (max_output_tokens) leaves its last output unfinished.
        cut = run.script.incomplete is not None and index == len(run.script.outputs) - 1
        return self._close_item(run, index, "incomplete" if cut else "completed")

    def _close_item(self, run: ResponseRun, index: int, status: str) -> list[wire.ServerEvent]:
        item = run.items[index]
        item["status"] = status
        run.done_items.add(index)
        out: list[wire.ServerEvent] = [
            wire.ResponseOutputItemDone(
                event_id=self.new_id("event"),
                response_id=run.id,
                output_index=index,
                item=copy.deepcopy(item),
            )
        ]
        # The client may have deleted the item meanwhile: then it is no longer in the conversation.
        if not run.out_of_band and item["id"] in self._items:
            out.append(self.item_done(item["id"]))
        return out
