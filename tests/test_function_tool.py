"""Function tools: strict schemas from type hints and docstrings, argument parsing, binding."""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Annotated, Any, Literal, Optional

import pytest
from agent_helpers import (
    EMPTY,
    Filters,
    Location,
    Node,
    Person,
    Priority,
    Unit,
    Window,
    assert_valid_session_tools,
    ctx,
    never_called,
    strict_everywhere,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from realtime_sansio.protocol.agent import (
    FunctionTool,
    ToolArgumentsError,
    ToolContext,
    function_tool,
)
from realtime_sansio.protocol.errors import LocalProtocolError

# -- function_tool -------------------------------------------------------------------------


def test_bare_decorator_derives_name_description_and_strict_schema() -> None:
    @function_tool
    def get_weather(city: str, unit: Unit = Unit.CELSIUS) -> str:
        """Get the current weather.

        Longer text that is not the summary.

        Args:
            city: The city name,
                for example Paris.
            unit (Unit): Temperature unit.
        """
        return city

    assert isinstance(get_weather, FunctionTool)
    assert get_weather.name == "get_weather"
    assert get_weather.description == "Get the current weather."
    assert get_weather.is_async is False and get_weather.strict_json_schema is True
    assert get_weather.params_json_schema == {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "The city name, for example Paris."},
            "unit": {
                "anyOf": [{"type": "string", "enum": ["celsius", "fahrenheit"]}, {"type": "null"}],
                "description": "Temperature unit.",
            },
        },
        "additionalProperties": False,
        "required": ["city", "unit"],
    }
    assert get_weather.to_wire() == {
        "type": "function",
        "name": "get_weather",
        "description": "Get the current weather.",
        "parameters": get_weather.params_json_schema,
    }
    assert_valid_session_tools(get_weather)


def test_decorator_with_options_and_async_functions() -> None:
    @function_tool(name="lookup", description="Look it up.", needs_approval=True, timeout_s=2.5)
    async def find(query: str) -> str:
        """Ignored docstring."""
        return query

    assert (find.name, find.description, find.needs_approval, find.timeout_s) == (
        "lookup",
        "Look it up.",
        True,
        2.5,
    )
    assert find.is_async is True
    assert find.to_wire()["name"] == "lookup"
    assert "on_invoke" not in json.dumps(find.to_wire())


def test_rest_docstrings_and_annotated_descriptions() -> None:
    @function_tool
    def book(room: str, nights: Annotated[int, "How many nights."], note: str = "") -> str:
        """Book a room.

        :param room: The room
            number.
        :param str note: Anything else.
        :returns: a confirmation
        """
        return room

    props = book.params_json_schema["properties"]
    assert book.description == "Book a room."
    assert props["room"]["description"] == "The room number."
    assert props["nights"] == {"type": "integer", "description": "How many nights."}
    assert props["note"] == {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "description": "Anything else.",
    }


def test_docstrings_without_a_summary_or_with_a_leading_newline() -> None:
    @function_tool
    def only_args(x: int, y: int) -> None:
        """Args:
        x: The x.
        y (int): The y,
            continued.
        """

    @function_tool
    def rest(x: int) -> None:
        """
        Summary on the second line.

        :param x: The x.
        :type x: int
        """

    assert only_args.description == ""
    props = only_args.params_json_schema["properties"]
    assert (props["x"]["description"], props["y"]["description"]) == ("The x.", "The y, continued.")
    assert rest.description == "Summary on the second line."
    assert rest.params_json_schema["properties"]["x"]["description"] == "The x."


def test_every_supported_type_gives_a_strict_schema() -> None:
    @function_tool
    def everything(  # noqa: PLR0917 - a tool's parameters are the model's to fill
        text: str,
        count: int,
        ratio: float,
        flag: bool,
        tags: list[str],
        pair: tuple[int, ...],
        maybe: Optional[str],  # noqa: UP045 - the typing spelling is supported too
        either: int | str,
        mode: Literal["fast", "slow"],
        level: Priority,
        where: Location,
        window: Window,
        filters: Filters,
        people: list[Person],
        nothing: None = None,
    ) -> None:
        """Everything."""

    schema = everything.params_json_schema
    strict_everywhere(schema)
    props = schema["properties"]
    assert props["count"] == {"type": "integer"}
    assert props["ratio"] == {"type": "number"}
    assert props["flag"] == {"type": "boolean"}
    assert props["pair"] == {"type": "array", "items": {"type": "integer"}}
    assert props["maybe"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert props["either"] == {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    assert props["mode"] == {"type": "string", "enum": ["fast", "slow"]}
    assert props["level"] == {"type": "integer", "enum": [1, 2]}
    assert props["where"]["properties"]["country"] == {
        "anyOf": [{"type": "string"}, {"type": "null"}]
    }
    assert list(props["window"]["properties"]) == ["start", "end"]
    assert props["filters"]["required"] == ["tag", "limit"]
    assert props["nothing"] == {"type": "null"}
    assert_valid_session_tools(everything)


def test_definition_errors_are_clear() -> None:
    def untyped(city):  # type: ignore[no-untyped-def]
        return city

    def untyped_ctx(ctx, city: str) -> str:  # type: ignore[no-untyped-def]
        return city

    def late_ctx(city: str, ctx: ToolContext[Any]) -> str:
        return city

    def star(*args: str) -> None: ...

    def free_form(data: dict[str, int]) -> None: ...

    def bare(items: list) -> None: ...  # type: ignore[type-arg]

    def anything(value: Any) -> None: ...

    def recursive(tree: Node) -> None: ...

    def fixed(pair: tuple[int, str]) -> None: ...

    def fine(x: int) -> None: ...

    cases = [
        (untyped, "parameter 'city' has no type hint"),
        (untyped_ctx, "annotate it as ToolContext"),
        (late_ctx, "ToolContext parameter must come first"),
        (star, r"\*args"),
        (free_form, "strict schemas forbid free-form objects"),
        (bare, "bare"),
        (anything, "cannot describe"),
        (recursive, "recursive type"),
        (fixed, r"tuple\[T, \.\.\.\]"),
    ]
    for func, message in cases:
        with pytest.raises(LocalProtocolError, match=message):
            function_tool(func)
    with pytest.raises(LocalProtocolError, match="invalid tool name"):
        function_tool(name="has space")(fine)
    with pytest.raises(LocalProtocolError, match="timeout_s"):
        function_tool(timeout_s=0)(fine)


def test_enums_and_literals_must_be_json_scalars() -> None:
    class Shape(enum.Enum):
        POINT = (0, 0)

    def draw(shape: Shape) -> None: ...

    def mixed(value: Literal["a", 1, None]) -> None: ...

    draw.__annotations__["shape"] = Shape
    with pytest.raises(LocalProtocolError, match=r"\(0, 0\) is not a JSON string"):
        function_tool(draw)
    schema = function_tool(mixed).params_json_schema["properties"]["value"]
    assert schema == {"enum": ["a", 1, None]}


def test_attrs_aliases_and_typeddict_keys_round_trip() -> None:
    @function_tool
    def schedule(window: Window, filters: Filters) -> None: ...

    parsed = schedule.parse_arguments(
        '{"window": {"start": 9, "end": null}, "filters": {"tag": "x", "limit": null}}'
    )
    assert schedule.build_call_args(parsed, ctx())[1] == {
        "window": Window(start=9, end=24),
        "filters": {"tag": "x"},
    }


def test_callable_objects_with_async_call_are_async() -> None:
    class Tool:
        async def __call__(self, c: ToolContext[Any], arguments: dict[str, Any]) -> str:
            return ""

    assert FunctionTool(name="obj", on_invoke=Tool()).is_async is True
    with pytest.raises(LocalProtocolError, match="on_invoke must be callable"):
        FunctionTool(name="obj", on_invoke="not callable")  # type: ignore[arg-type]


def test_free_form_dicts_only_without_strict_mode() -> None:
    @function_tool(strict_mode=False)
    def tally(counts: dict[str, int], label: str = "x") -> int:
        return sum(counts.values())

    assert tally.strict_json_schema is False
    assert tally.params_json_schema["required"] == ["counts"]
    assert tally.params_json_schema["properties"]["counts"] == {
        "type": "object",
        "additionalProperties": {"type": "integer"},
    }
    parsed = tally.parse_arguments('{"counts": {"a": 1, "b": 2.0}}')
    assert tally.build_call_args(parsed, ctx()) == ((), {"counts": {"a": 1, "b": 2}})
    with pytest.raises(ToolArgumentsError, match=r"property 'counts.b': expected integer"):
        tally.parse_arguments('{"counts": {"b": "2"}}')


# -- arguments -----------------------------------------------------------------------------


@function_tool
def plan_trip(
    context: ToolContext[dict[str, int]],
    where: Location,
    days: int,
    unit: Unit = Unit.CELSIUS,
    stops: list[Location] | None = None,
) -> str:
    """Plan a trip."""
    return ""


GOOD = {
    "where": {"city": "Lyon", "country": None, "coordinates": [45.76, 4.84]},
    "days": 3.0,
    "unit": "fahrenheit",
    "stops": [{"city": "Nice", "country": "FR", "coordinates": []}],
}


def test_build_call_args_rebuilds_python_values() -> None:
    parsed = plan_trip.parse_arguments(json.dumps(GOOD))
    call = ctx("plan_trip")
    args, kwargs = plan_trip.build_call_args(parsed, call)
    assert args == (call,)
    assert kwargs == {
        "where": Location(city="Lyon", country="FR", coordinates=(45.76, 4.84)),
        "days": 3,
        "unit": Unit.FAHRENHEIT,
        "stops": [Location(city="Nice")],
    }
    assert type(kwargs["days"]) is int
    nulls = plan_trip.parse_arguments(json.dumps({**GOOD, "unit": None, "stops": None}))
    assert plan_trip.build_call_args(nulls, call)[1].keys() == {"where", "days"}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("{not json", "invalid JSON arguments for 'plan_trip'"),
        ('{"days": NaN}', "invalid JSON"),
        ("[1, 2]", "must be a JSON object, got array"),
        ('"text"', "must be a JSON object, got string"),
        ("", "missing required property 'where'"),
        (
            json.dumps({k: v for k, v in GOOD.items() if k != "days"}),
            "missing required property 'days'",
        ),
        (json.dumps({**GOOD, "extra": 1}), "unexpected property 'extra'"),
        (json.dumps({**GOOD, "days": "3"}), "property 'days': expected integer, got string"),
        (json.dumps({**GOOD, "days": 2.5}), "property 'days': expected integer, got number"),
        (json.dumps({**GOOD, "days": True}), "property 'days': expected integer, got boolean"),
        (json.dumps({**GOOD, "unit": "kelvin"}), '"kelvin" is not one of "celsius", "fahrenheit"'),
        (
            json.dumps({**GOOD, "where": {"city": "x", "country": None}}),
            "missing required property 'coordinates' in 'where'",
        ),
        (
            json.dumps({**GOOD, "where": {**GOOD["where"], "coordinates": ["n"]}}),  # type: ignore[dict-item]
            r"property 'where.coordinates\[0\]': expected number, got string",
        ),
        (
            json.dumps({**GOOD, "stops": [{"city": 1, "country": None, "coordinates": []}]}),
            r"property 'stops\[0\].city': expected string, got integer",
        ),
        (json.dumps({**GOOD, "stops": 5}), "property 'stops': expected array or null, got integer"),
    ],
)
def test_bad_arguments_are_explained(arguments: str, message: str) -> None:
    with pytest.raises(ToolArgumentsError, match=message) as info:
        plan_trip.parse_arguments(arguments)
    assert isinstance(info.value, ValueError)


def test_a_tool_without_parameters_takes_empty_arguments() -> None:
    @function_tool
    async def ping() -> str:
        return "pong"

    assert ping.params_json_schema == EMPTY
    assert ping.parse_arguments("") == {} and ping.parse_arguments("{}") == {}
    assert ping.build_call_args({}, ctx()) == ((), {})


def test_context_and_positional_only_parameters_are_bound_right() -> None:
    @function_tool
    def positional(ctx: ToolContext[Any], a: int, /, b: int = 5, *, c: str = "c") -> None: ...

    @function_tool
    def keyword_ctx(*, ctx: ToolContext[Any], a: int) -> None: ...

    assert "ctx" not in positional.params_json_schema["properties"]
    call = ctx()
    assert positional.build_call_args({"a": 1, "b": None, "c": None}, call) == ((call, 1), {})
    assert positional.build_call_args({"a": 1, "b": 2, "c": "x"}, call) == (
        (call, 1),
        {"b": 2, "c": "x"},
    )
    assert keyword_ctx.build_call_args({"a": 1}, call) == ((), {"ctx": call, "a": 1})


def test_constructor_errors_in_nested_values_become_argument_errors() -> None:
    @dataclasses.dataclass
    class Positive:
        value: int

        def __post_init__(self) -> None:
            if self.value <= 0:
                raise ValueError("value must be positive")

    def take(p: Positive) -> None: ...

    take.__annotations__["p"] = Positive  # a local class: hand the resolved hint over
    tool = function_tool(take)
    with pytest.raises(ToolArgumentsError, match="must be positive"):
        tool.build_call_args(tool.parse_arguments('{"p": {"value": -1}}'), ctx())


def test_a_tool_made_by_hand() -> None:
    tool = FunctionTool(
        name="echo",
        description="Echo.",
        params_json_schema={
            "type": "object",
            "properties": {"text": {"type": "string"}},
            "required": ["text"],
        },
        on_invoke=never_called,
    )
    assert tool.is_async is False and tool.binding is None
    call = ctx()
    assert tool.build_call_args(tool.parse_arguments('{"text": "x", "more": 1}'), call) == (
        (call, {"text": "x", "more": 1}),
        {},
    )
    assert_valid_session_tools(tool)

    async def run(c: ToolContext[Any], arguments: dict[str, Any]) -> str:
        return ""

    assert FunctionTool(name="run", on_invoke=run).is_async is True
    with pytest.raises(LocalProtocolError, match="type 'object'"):
        FunctionTool(name="x", on_invoke=run, params_json_schema={"type": "string"})


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text())
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)
locations = st.builds(
    Location,
    city=st.text(),
    country=st.text(),
    coordinates=st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=3).map(tuple),
)


@settings(max_examples=200, deadline=None)
@given(locations, st.integers(), st.sampled_from(Unit), st.none() | st.lists(locations, max_size=2))
def test_well_typed_calls_round_trip(
    where: Location, days: int, unit: Unit, stops: list[Location] | None
) -> None:
    def as_json(loc: Location) -> dict[str, Any]:
        return {**dataclasses.asdict(loc), "coordinates": list(loc.coordinates)}

    arguments = json.dumps(
        {
            "where": as_json(where),
            "days": days,
            "unit": unit.value,
            "stops": None if stops is None else [as_json(s) for s in stops],
        }
    )
    _, kwargs = plan_trip.build_call_args(plan_trip.parse_arguments(arguments), ctx())
    expected = {"where": where, "days": days, "unit": unit}
    if stops is not None:
        expected["stops"] = stops
    assert kwargs == expected


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_arbitrary_json_is_accepted_or_refused_with_a_clear_error(value: Any) -> None:
    try:
        parsed = plan_trip.parse_arguments(json.dumps(value))
    except ToolArgumentsError as exc:
        assert "plan_trip" in str(exc)
    else:
        plan_trip.build_call_args(parsed, ctx())  # what validates also binds
