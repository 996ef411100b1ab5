"""The typed wire protocol of the OpenAI Realtime API: GA events, and the beta dialect.

``decode_server_event`` / ``encode_client_event`` are the client's half; the fake server uses
``decode_client_event`` / ``encode_server_event``. Tables of every event are in docs/wire.md.
"""

from __future__ import annotations

from .client_events import *  # noqa: F403
from .client_events import __all__ as _client_all
from .codec import (
    Dialect,
    client_event_to_json,
    decode_client_event,
    decode_server_event,
    encode_client_event,
    encode_server_event,
    parse_json,
    parse_json_object,
    server_event_to_json,
)
from .server_events import *  # noqa: F403
from .server_events import __all__ as _server_all

__all__ = [  # noqa: PLE0604
    *_client_all,
    *_server_all,
    "Dialect",
    "client_event_to_json",
    "decode_client_event",
    "decode_server_event",
    "encode_client_event",
    "encode_server_event",
    "parse_json",
    "parse_json_object",
    "server_event_to_json",
]
