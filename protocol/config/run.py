"""``RunConfig`` (how the Session behaves, ``ReconnectPolicy`` included) and ``ModelConfig``
(how the transport connects).

``ModelConfig`` holds the API key but never shows it: its ``repr`` says ``api_key=<set>`` or
``<callable>``, headers that are secret by name or look like a credential by value are masked,
and so are the URL's userinfo and secret query values (``credentials``), so a config printed
in a log or a traceback leaks nothing. A URL without a host, with a bad port or with spaces,
and a header that is not printable ASCII, are refused when the config is made, not when it
connects. A callable key is only held here; the transport calls it when it
connects, since the core calls no user code.
"""

from __future__ import annotations

import math
import re
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, TypeAlias

import attrs

from ..errors import LocalProtocolError
from ..wire.codec import Dialect
from .credentials import REDACTED, is_secret_name, looks_like_credential, mask_url
from .settings import SessionModelSettings, TracingSetting
from .values import (
    UNSET,
    GuardrailsSettings,
    Validator,
    boolean,
    fail,
    non_negative_number,
    nonempty_str,
    one_of,
    optional,
    positive_int,
    positive_seconds,
)

__all__ = ["Dialect", "ModelConfig", "ReconnectPolicy", "RunConfig", "UserAudioReplay"]

UserAudioReplay: TypeAlias = Literal["transcript", "audio"]


def _instance_of(kind: type) -> Validator:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, kind):
            fail(instance, attribute, f"a {kind.__name__}", value)

    return check


def _to_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise LocalProtocolError(f"RunConfig.output_guardrails must be a sequence, got {value!r}")
    return tuple(value)


def _at_least_one(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value < math.inf:
        fail(instance, attribute, "a finite number >= 1", value)


def _zero_to_one(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        fail(instance, attribute, "a number between 0 and 1", value)


@attrs.frozen(kw_only=True)
class ReconnectPolicy:
    """How a session survives a dropped connection (docs/resilience.md).

    A drop that can be retried (close codes 1001, 1006, 1011, 1012, 1013, 1014, a network
    error, a handshake that timed out or got a 5xx) makes the session ask its driver for a
    new connection after ``delay(attempt)`` seconds: ``initial_delay_s``, multiplied by
    ``multiplier`` for each further attempt, at most ``max_delay_s``. The driver adds a random
    extra of up to ``jitter`` times the delay (the session itself draws no random numbers).
    After ``max_attempts`` failed attempts the session gives up and closes.
    """

    max_attempts: int = attrs.field(default=5, validator=positive_int)
    initial_delay_s: float = attrs.field(default=0.25, validator=non_negative_number)
    max_delay_s: float = attrs.field(default=8.0, validator=non_negative_number)
    multiplier: float = attrs.field(default=2.0, validator=_at_least_one)
    jitter: float = attrs.field(default=0.25, validator=_zero_to_one)
    stable_after_s: float = attrs.field(default=30.0, validator=non_negative_number)
    """A connection that lived this long before it dropped has worked: the next outage
    counts its attempts from 1 again. One that drops sooner goes on with the count of the
    outage before it, so a server that takes connections and drops them at once gets
    ``max_attempts`` in all, not an endless loop."""

    max_buffered_audio_s: float = attrs.field(default=10.0, validator=non_negative_number)
    """User audio (``SendAudio``) kept while reconnecting, in seconds of the input format,
    and sent after the replay; audio past it is dropped and reported (an ``ErrorEvent``
    ``input_audio_dropped``, and ``ReconnectedEvent.audio_dropped_ms``). The same bound
    applies to the audio the server had not committed when the connection dropped: the
    last ``max_buffered_audio_s`` of it are sent again."""

    user_audio: UserAudioReplay = attrs.field(
        default="transcript", validator=one_of("transcript", "audio")
    )
    """How a user audio turn is replayed: ``"transcript"`` as the text of its transcript
    (falling back to its audio while no transcript has come), ``"audio"`` as its audio
    (falling back to the transcript when the audio was not kept)."""

    max_kept_audio_s: float = attrs.field(default=120.0, validator=non_negative_number)
    """Seconds of user turns' audio kept for a replay (the oldest turns are forgotten
    first): with ``user_audio="transcript"``, only turns still waiting for their
    transcript."""

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt`` (1 for the first)."""
        delay = self.initial_delay_s * self.multiplier ** max(0, attempt - 1)
        return min(delay, self.max_delay_s)


@attrs.frozen(kw_only=True)
class RunConfig:
    """How a Session runs an agent; the Elixir SDK's ``Codex.Realtime.Config.RunConfig``."""

    model_settings: SessionModelSettings = attrs.field(
        factory=SessionModelSettings, validator=_instance_of(SessionModelSettings)
    )
    """Set fields override the agent's (instructions, voice, ...) in every session.update."""

    output_guardrails: tuple[Any, ...] = attrs.field(default=(), converter=_to_tuple)
    """Guardrails run on the assistant's output, in addition to the agent's own."""

    guardrails_settings: GuardrailsSettings = attrs.field(
        factory=GuardrailsSettings, validator=_instance_of(GuardrailsSettings)
    )
    tracing_disabled: bool = attrs.field(default=False, validator=boolean)
    """True sends ``tracing: null`` (tracing off) in the first session.update, whatever
    ``model_settings.tracing`` says."""

    tool_timeout_s: float | None = attrs.field(default=30.0, validator=positive_seconds)
    """Timeout of a tool call for tools without their own; ``None`` waits forever."""

    max_pending_app_inputs: int = attrs.field(default=256, validator=positive_int)
    """Bound of the application inputs (messages, audio chunks, raw events) queued while the
    session is not ready yet; one more is refused with ``LocalProtocolError`` rather than
    growing memory without limit. While reconnecting, audio chunks are bounded by
    ``ReconnectPolicy.max_buffered_audio_s`` instead."""

    reconnect: ReconnectPolicy | None = attrs.field(
        factory=ReconnectPolicy, validator=optional(_instance_of(ReconnectPolicy))
    )
    """How to survive a dropped connection (history replayed on a new one); None: a drop
    ends the session. ``run()`` turns it off over a transport that cannot be opened again."""

    recycle_after_s: float | None = attrs.field(default=3300.0, validator=positive_seconds)
    """Age of a connection (seconds) after which the session moves to a new one at the
    next quiet moment, before the server's 60-minute cap; None: never."""

    @property
    def effective_tracing(self) -> TracingSetting:
        """The tracing to request at session start: ``None`` (sent as ``null``) if disabled,
        else the setting, ``"auto"`` when the settings leave it unset (the library's
        default)."""
        return self.tracing_for(self.model_settings)

    def tracing_for(self, settings: SessionModelSettings) -> TracingSetting:
        """``effective_tracing`` over ``settings`` (the Session's merged layers) instead of
        ``model_settings`` alone."""
        if self.tracing_disabled:
            return None
        return "auto" if settings.tracing is UNSET else settings.tracing


def _to_headers(value: Mapping[str, str]) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        raise LocalProtocolError(
            f"ModelConfig.headers must be a mapping of str to str, got {type(value).__name__}"
        )
    # A read-only private copy, so the frozen config cannot change behind its back.
    return types.MappingProxyType(dict(value))


# RFC 9110's token: what an HTTP field name is made of.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Visible ASCII, spaces and tabs: anything else is refused by h11 when connecting, or sent as
# latin-1 bytes a server reads differently.
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")


def header_problem(name: object, value: object, owner: str = "ModelConfig.headers") -> str | None:
    """What is wrong with a handshake header (a message naming ``owner``), or None. The value
    is never quoted: it may be a secret."""
    if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
        return f"{owner} has an invalid header name {name!r} (letters, digits, !#$%&'*+-.^_`|~)"
    if not isinstance(value, str):
        return f"{owner}[{name!r}] must be a str"
    if "\r" in value or "\n" in value:
        # CR/LF would let a header value smuggle further headers into the handshake.
        return f"{owner}[{name!r}] must be a str without CR or LF"
    if not _HEADER_VALUE.fullmatch(value):
        return (
            f"{owner}[{name!r}] must be printable ASCII: its value has a control or non-ASCII"
            " character (HTTP sends header bytes, not text)"
        )
    return None


def _check_headers(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    assert isinstance(value, Mapping)
    for name, header in value.items():
        problem = header_problem(name, header)
        if problem is not None:
            raise LocalProtocolError(problem)


def _check_api_key(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, str) and not callable(value):
        # Only the type is named: the value may be a secret.
        raise LocalProtocolError(
            "ModelConfig.api_key must be a str, a callable returning a str, or None;"
            f" got a {type(value).__name__}"
        )


# scheme://[userinfo@]host[:port][/path][?query][#fragment], the host maybe an [IPv6].
_WS_URL = re.compile(
    r"(?i)wss?://(?:[^/?#@]*@)?(?P<host>\[[^\]/?#]*\]|[^:/?#\[\]]*)(?::(?P<port>[^/?#]*))?"
    r"(?:[/?#].*)?",
    re.DOTALL,
)


def ws_url_problem(url: str) -> str | None:
    """What a ws:// or wss:// URL lacks (as "must be ..." would end), or None if usable."""
    if not url.lower().startswith(("ws://", "wss://")):
        return "a ws:// or wss:// URL"
    if not url.isascii() or any(c <= " " or c == "\x7f" for c in url):
        return "a URL without spaces, control or non-ASCII characters (percent-encode them)"
    parts = _WS_URL.fullmatch(url)
    if parts is None or parts["host"] in ("", "[]"):
        return "a ws:// or wss:// URL with a host"
    port = parts["port"]
    if port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
        return "a URL whose port is 1..65535"
    return None


def _check_url(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        fail(instance, attribute, "a ws:// or wss:// URL, or None (the default)", value)
    problem = ws_url_problem(value)
    if problem is not None:
        # The URL may carry a credential (?token=, user:pass@): errors show it masked.
        fail(instance, attribute, problem, mask_url(value))


def _key_repr(value: str | Callable[[], str] | None) -> str:
    if value is None:
        return "None"
    return "<set>" if isinstance(value, str) else "<callable>"


@attrs.frozen(kw_only=True, repr=False)
class ModelConfig:
    """How to connect: the Elixir SDK's ``Codex.Realtime.Config.ModelConfig``."""

    api_key: str | Callable[[], str] | None = attrs.field(default=None, validator=_check_api_key)
    """The key, or a callable the transport calls at connect time; ``None`` lets the
    transport look one up (CODEX_API_KEY, auth.json, OPENAI_API_KEY)."""

    url: str | None = attrs.field(default=None, validator=_check_url)
    """Base URL such as ``wss://api.openai.com/v1/realtime``; ``None`` is that default. It
    needs a host; spaces, control and non-ASCII characters must be percent-encoded."""

    headers: Mapping[str, str] = attrs.field(
        factory=dict, converter=_to_headers, validator=_check_headers
    )
    """Extra handshake headers, sent as given: names are HTTP tokens, values printable ASCII."""

    call_id: str | None = attrs.field(default=None, validator=optional(nonempty_str))
    """Attach to a SIP call: connect with ``?call_id=`` instead of ``?model=``."""

    dialect: Dialect = attrs.field(default="ga", validator=one_of("ga", "beta"))
    initial_model_settings: SessionModelSettings = attrs.field(
        factory=SessionModelSettings, validator=_instance_of(SessionModelSettings)
    )
    """Settings sent in the first session.update, beneath the RunConfig's."""

    model: str = attrs.field(default="gpt-realtime", validator=nonempty_str)
    """The model of the ``?model=`` query, and of the session unless the settings name one."""

    def __repr__(self) -> str:
        headers = {
            name: REDACTED if is_secret_name(name) or looks_like_credential(value) else value
            for name, value in self.headers.items()
        }
        url = None if self.url is None else mask_url(self.url)
        return (
            f"ModelConfig(api_key={_key_repr(self.api_key)}, url={url!r},"
            f" headers={headers!r}, call_id={self.call_id!r}, dialect={self.dialect!r},"
            f" initial_model_settings={self.initial_model_settings!r}, model={self.model!r})"
        )
