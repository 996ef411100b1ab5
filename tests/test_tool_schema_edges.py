"""Tool schemas at their edges: hand-written schemas with references, constants and unions,
arguments nested past any sense, hints that cannot resolve, docstrings with several sections,
and the misuse of ``function_tool`` and ``handoff`` that must be refused at definition."""

from __future__ import annotations

import functools
import json
from typing import Annotated, Any, NotRequired, Required, TypedDict

import pytest
from agent_helpers import ctx, never_called
from realtime_sansio.protocol import Agent
from realtime_sansio.protocol.agent import (
    FunctionTool,
    Handoff,
    ToolArgumentsError,
    function_tool,
    handoff,
)
from realtime_sansio.protocol.errors import LocalProtocolError

SCHEMA = {
    "type": "object",
    "properties": {
        "unit": {"$ref": "#/$defs/a~1b~0c"},
        "version": {"const": 2},
        "either": {"anyOf": [{"enum": ["x"]}, {"const": 3}]},
        "maybe": {"anyOf": [{"type": ["integer", "null"]}, {"type": "boolean"}]},
        "tree": {"$ref": "#/$defs/tree"},
    },
    "$defs": {
        "a/b~c": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "tree": {"type": "object", "additionalProperties": {"$ref": "#/$defs/tree"}},
    },
}
TOOL = FunctionTool(name="convert", params_json_schema=SCHEMA, on_invoke=never_called)


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        # "$ref" follows a JSON pointer, "~1" and "~0" escaped.
        ({"unit": "kelvin"}, 'property \'unit\': "kelvin" is not one of "celsius"'),
        ({"version": 2.5}, "property 'version': must be 2"),
        ({"version": True}, "property 'version': must be 2"),  # a boolean is not a number
        # No branch has a type to match the value's: both are named.
        ({"either": "y"}, "property 'either': expected a matching value or a matching value"),
        # Types in a list are named together.
        ({"maybe": "s"}, "property 'maybe': expected integer/null or boolean, got string"),
        ({"tree": {"a": {"b": 1}}}, "property 'tree.a.b': expected object, got integer"),
    ],
)
def test_hand_written_schemas_are_checked(arguments: dict[str, Any], says: str) -> None:
    with pytest.raises(ToolArgumentsError, match=f"invalid arguments for 'convert': {says}"):
        TOOL.parse_arguments(json.dumps(arguments))


def test_conforming_arguments_pass_a_hand_written_schema() -> None:
    arguments = {"unit": "celsius", "version": 2, "either": 3, "maybe": None, "tree": {"a": {}}}
    assert TOOL.parse_arguments(json.dumps(arguments)) == arguments


def test_arguments_nested_deeper_than_the_checker_goes_are_refused() -> None:
    # Valid JSON, but the recursive schema would be followed level by level.
    deep = "{" + '"a": {' * 600 + "}" * 600 + "}"
    arguments = '{"tree": ' + deep + "}"
    assert json.loads(arguments)  # the parser takes it
    with pytest.raises(ToolArgumentsError, match="the arguments are nested too deeply"):
        TOOL.parse_arguments(arguments)


def test_hints_that_cannot_resolve_name_the_tool() -> None:
    def lookup(key: NoSuchType) -> str:  # type: ignore[name-defined]  # noqa: F821
        return str(key)

    with pytest.raises(LocalProtocolError, match="cannot resolve type hints") as info:
        function_tool(lookup)
    assert "NoSuchType" in str(info.value)


class Filter(TypedDict):
    field: str
    limit: NotRequired[int]


class Page(TypedDict, total=False):
    cursor: Required[Annotated[str, "Where to go on."]]
    size: int


def test_not_required_typed_dict_fields_are_optional() -> None:
    # This module's annotations are strings (from __future__ import annotations), so the
    # TypedDict cannot see NotRequired itself: Filter.__required_keys__ names "limit" too.
    def search(query: Filter) -> str:
        """Search."""
        return str(query)

    loose = function_tool(search, strict_mode=False).params_json_schema["properties"]["query"]
    assert loose["properties"]["limit"] == {"type": "integer"}
    assert loose["required"] == ["field"]
    # Strict schemas require every property: the optional one may be null instead.
    strict = function_tool(search)
    query = strict.params_json_schema["properties"]["query"]
    assert query["properties"]["limit"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    assert query["required"] == ["field", "limit"]
    parsed = strict.parse_arguments('{"query": {"field": "name", "limit": null}}')
    assert strict.build_call_args(parsed, ctx()) == ((), {"query": {"field": "name"}})


def test_required_keys_of_a_partial_typed_dict() -> None:
    def browse(page: Page) -> str:
        """Browse."""
        return str(page)

    schema = function_tool(browse, strict_mode=False).params_json_schema["properties"]["page"]
    assert schema["required"] == ["cursor"]
    assert schema["properties"]["cursor"] == {"type": "string", "description": "Where to go on."}


def test_free_form_objects_need_string_keys() -> None:
    def tally(counts: dict[int, int]) -> str:
        return str(counts)

    with pytest.raises(LocalProtocolError, match="JSON object keys are strings, not <class 'int'>"):
        function_tool(tally, strict_mode=False)


def test_a_union_value_no_branch_fits_is_passed_on_unconverted() -> None:
    # parse_arguments refuses such a value; build_call_args given one anyway leaves it be.
    def pick(choice: int | list[int]) -> str:
        return str(choice)

    tool = function_tool(pick)
    with pytest.raises(ToolArgumentsError):
        tool.parse_arguments('{"choice": "two"}')
    assert tool.build_call_args({"choice": "two"}, ctx()) == ((), {"choice": "two"})


def test_build_call_args_needs_every_required_argument() -> None:
    def ping(host: str) -> str:
        return host

    with pytest.raises(ToolArgumentsError, match="missing required property 'host'"):
        function_tool(ping).build_call_args({}, ctx())


def test_positional_only_defaults_are_passed_in_place() -> None:
    def scale(value: float, factor: float = 2.0, /, *, offset: float = 0.0) -> float:
        return value * factor + offset

    tool = function_tool(scale)
    parsed = tool.parse_arguments('{"value": 3, "factor": null, "offset": null}')
    assert tool.build_call_args(parsed, ctx()) == ((3.0, 2.0), {})


def test_docstrings_with_several_sections() -> None:
    def book(city: str, nights: int) -> str:
        """Book a room.

        Args:
            city: Where to stay,
                in the city centre.
            - a line that is no entry
                and its continuation
        Returns:
            The booking.
        Parameters:
            nights: How long.
        """
        return city * nights

    props = function_tool(book).params_json_schema["properties"]
    assert props["city"]["description"] == "Where to stay, in the city centre."
    assert props["nights"]["description"] == "How long."


# -- function_tool and handoff misuse --------------------------------------------------------


def test_function_tool_needs_a_named_function() -> None:
    with pytest.raises(LocalProtocolError, match="function_tool needs a function, not 42"):
        function_tool(42)  # type: ignore[call-overload]
    nameless = functools.partial(lambda city: city, "Paris")
    with pytest.raises(LocalProtocolError, match="has no __name__: give function_tool a name="):
        function_tool(nameless)


CONCIERGE = Agent(name="Concierge", instructions="Help.")


def test_a_handoff_shows_its_tool_and_agent() -> None:
    assert (
        repr(handoff(CONCIERGE)) == "Handoff(tool_name='transfer_to_concierge', agent='Concierge')"
    )


def test_a_handoff_with_a_hand_written_input_schema_passes_the_input_as_parsed() -> None:
    schema = {
        "type": "object",
        "properties": {"reason": {"type": "string"}},
        "required": ["reason"],
        "additionalProperties": False,
    }
    transfer = Handoff(
        agent=CONCIERGE,
        tool_name="transfer_to_concierge",
        tool_description="Transfer.",
        input_json_schema=schema,
    )
    parsed = transfer.parse_arguments('{"reason": "billing"}')
    assert transfer.build_callback_args(parsed, "ctx") == ("ctx", {"reason": "billing"})


class Escalation(TypedDict):
    level: int


def test_a_handoff_input_its_type_refuses_is_a_tool_arguments_error() -> None:
    class Strict:
        def __init__(self, level: int) -> None:
            if level < 1:
                raise ValueError("level must be >= 1")

    import dataclasses

    @dataclasses.dataclass
    class Level:
        level: int

        def __post_init__(self) -> None:
            Strict(self.level)

    transfer = handoff(CONCIERGE, input_type=Level, on_handoff=lambda c, i: None)
    with pytest.raises(ToolArgumentsError, match="handoff input: level must be >= 1"):
        transfer.build_callback_args({"level": 0}, "ctx")


def test_an_on_handoff_without_a_signature_is_trusted() -> None:
    # min has no signature to check (a builtin); it is taken as it is.
    assert handoff(CONCIERGE, on_handoff=min).on_handoff is min
