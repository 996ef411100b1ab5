"""``_slots``: building a frozen attrs instance through its slots gives the instance its
``__init__`` gives, and classes whose ``__init__`` does more are refused."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from realtime_sansio.protocol import events, wire
from realtime_sansio.protocol._slots import builder
from realtime_sansio.protocol.wire import _schema


def _values(cls: type) -> dict[str, Any]:
    """A distinct value for each field, of its type."""
    values: dict[str, Any] = {}
    for n, field in enumerate(attrs.fields(cls)):
        kind = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", "")
        values[field.name] = n if "int" in kind else b"\x01\x02" if "bytes" in kind else f"v{n}"
    return values


@pytest.mark.parametrize(
    "cls", [events.RawModelEvent, events.AudioEvent, events.TranscriptDeltaEvent]
)
def test_a_built_event_is_the_event_its_init_makes(cls: type) -> None:
    values = _values(cls)
    built = builder(cls)(*values.values())
    made = cls(**values)
    assert type(built) is cls
    assert built == made and hash(built) == hash(made) and repr(built) == repr(made)
    assert attrs.asdict(built) == attrs.asdict(made)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.x = 1  # type: ignore[attr-defined]


def test_every_wire_class_builds_the_instance_its_init_makes() -> None:
    # The codec builds every wire class through its slots (it refuses one it cannot): what it
    # builds must be what the class's own constructor would, field by field.
    classes = [codec.cls for codec in _schema._CODECS.values()]
    assert set(wire.SERVER_EVENT_CLASSES) <= set(classes)
    for cls in classes:
        values = _values(cls)
        assert builder(cls)(*values.values()) == cls(**values), cls


def test_classes_whose_init_does_more_are_refused() -> None:
    @attrs.frozen
    class Validated:
        x: int = attrs.field(validator=attrs.validators.instance_of(int))

    @attrs.frozen
    class Converted:
        x: int = attrs.field(converter=int)

    @attrs.frozen
    class Hooked:
        x: int

        def __attrs_post_init__(self) -> None:
            pass

    @attrs.frozen
    class NotInInit:
        x: int = attrs.field(init=False, default=0)

    @attrs.frozen(cache_hash=True)
    class CachedHash:
        x: int

    @attrs.frozen(slots=False)
    class NoSlots:
        x: int

    class NotAttrs:
        __slots__ = ("x",)

    for cls in (Validated, Converted, Hooked, NotInInit, CachedHash, NoSlots, NotAttrs):
        with pytest.raises(TypeError):
            builder(cls)
