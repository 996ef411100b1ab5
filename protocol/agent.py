"""Agents, function tools, handoffs and output guardrails: the definitions a session runs with.

Everything here is held, never run, by the core. The core reads names, descriptions and JSON
schemas and validates a call's arguments (pure); the driver calls the tool, the handoff
callback, the guardrail and the instructions function when an effect asks it to. Reading a
function's signature and docstring when ``@function_tool`` decorates it is the user defining a
tool, so it happens here, once.

Strict schemas, as the OpenAI Agents SDK makes them: every object has
``additionalProperties: false`` and lists every property in ``required``; a parameter with a
default is typed as nullable, and ``null`` from the model means "use the default".
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Generic, TypeAlias, TypeVar, overload

import attrs

from ._tool_schema import (
    MISSING,
    Convert,
    Field,
    Prop,
    ToolArgumentsError,
    class_props,
    derive,
    empty_parameters,
    object_schema,
    parse_docstring,
    parse_object,
    type_hints,
)
from .config.values import any_str, boolean, positive_seconds
from .errors import LocalProtocolError

__all__ = [
    "Agent",
    "FunctionTool",
    "GuardrailFunction",
    "GuardrailFunctionOutput",
    "Handoff",
    "Instructions",
    "OutputGuardrail",
    "ToolArgumentsError",
    "ToolContext",
    "function_tool",
    "handoff",
    "output_guardrail",
]

TContext = TypeVar("TContext")
Instructions: TypeAlias = str | Callable[[Any], str] | Callable[[Any], Awaitable[str]]

# The API's rule for function names; refusing a bad one here beats a server error mid-call.
_TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


@attrs.frozen(kw_only=True)
class ToolContext(Generic[TContext]):
    """What the driver passes a tool that asks for it (a first parameter of this type)."""

    context: TContext
    call_id: str
    tool_name: str


# -- function tools ------------------------------------------------------------------------


def _refuse_bad_name(value: Any) -> None:
    if not isinstance(value, str) or not _TOOL_NAME.fullmatch(value):
        raise LocalProtocolError(
            f"invalid tool name {value!r}: use 1 to 64 letters, digits, '_' or '-'"
        )


def _check_tool_name(instance: Any, attribute: attrs.Attribute[str], value: str) -> None:
    _refuse_bad_name(value)


def _check_parameters(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (not isinstance(value, dict) or value.get("type") != "object"):
        raise LocalProtocolError(
            f"{attribute.name} must be a JSON schema of type 'object', not {value!r}"
        )


def _check_callable(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not callable(value):
        raise LocalProtocolError(f"{attribute.name} must be callable, not {value!r}")


def _is_async(func: Any) -> bool:
    # A callable object with an ``async def __call__`` is async too.
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004
    )


@attrs.frozen(kw_only=True)
class _Binding:
    """How a decorated function takes its arguments (see FunctionTool.build_call_args)."""

    context_param: str | None
    context_positional: bool
    fields: tuple[Field, ...]


@attrs.frozen(kw_only=True, eq=False, repr=False)
class FunctionTool:
    """A tool the model can call: a name, a description, a JSON schema, and the callable.

    Made by ``@function_tool``, or by hand: then ``on_invoke(tool_context, arguments_dict)`` is
    how the driver calls it. ``to_wire`` never includes the callable. Equality is identity.
    """

    name: str = attrs.field(validator=_check_tool_name)
    description: str = attrs.field(default="", validator=any_str)
    params_json_schema: dict[str, Any] = attrs.field(
        factory=empty_parameters, validator=_check_parameters
    )
    on_invoke: Callable[..., Any] = attrs.field(validator=_check_callable)
    strict_json_schema: bool = attrs.field(default=True, validator=boolean)
    needs_approval: bool = attrs.field(default=False, validator=boolean)
    timeout_s: float | None = attrs.field(default=None, validator=positive_seconds)
    is_async: bool = attrs.field(
        default=attrs.Factory(lambda self: _is_async(self.on_invoke), takes_self=True)
    )
    binding: _Binding | None = attrs.field(default=None, repr=False)
    """Set by ``function_tool``: which parameter takes the context, and how JSON values
    become the function's arguments. None for a tool made by hand."""

    def __repr__(self) -> str:
        return f"FunctionTool(name={self.name!r})"

    def to_wire(self) -> dict[str, Any]:
        """The GA session tool object."""
        return {
            "type": "function",
            "name": self.name,
            "description": self.description,
            "parameters": self.params_json_schema,
        }

    def parse_arguments(self, arguments_json: str) -> dict[str, Any]:
        """The model's JSON arguments as a dict, checked against the schema (pure).

        Raises ToolArgumentsError for invalid JSON, a non-object, a missing required or an
        unexpected property, or a value of the wrong type.
        """
        return parse_object(self.name, self.params_json_schema, arguments_json)

    def build_call_args(
        self, parsed: Mapping[str, Any], ctx: ToolContext[Any]
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """``(args, kwargs)`` for ``on_invoke(*args, **kwargs)``, from ``parse_arguments``.

        Nested dataclasses, attrs classes and enums are rebuilt from their JSON, which runs
        their constructors: so the driver calls this, never the core. A constructor that
        rejects a value (TypeError, ValueError) gives ToolArgumentsError.
        """
        binding = self.binding
        if binding is None:
            return (ctx, dict(parsed)), {}
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        if binding.context_param is not None:
            if binding.context_positional:
                args.append(ctx)
            else:
                kwargs[binding.context_param] = ctx
        for f in binding.fields:
            value = parsed.get(f.name, MISSING)
            if value is MISSING or (value is None and f.has_default):
                if not f.has_default:
                    raise ToolArgumentsError(f"missing required property {f.name!r}")
                if f.positional_only:
                    args.append(f.default)
                continue
            try:
                converted = f.convert(value)
            except (TypeError, ValueError, AttributeError) as exc:
                raise ToolArgumentsError(f"property {f.name!r}: {exc}") from exc
            if f.positional_only:
                args.append(converted)
            else:
                kwargs[f.name] = converted
        return tuple(args), kwargs


def _is_tool_context(annotation: Any) -> bool:
    return annotation is ToolContext or typing.get_origin(annotation) is ToolContext


def _make_tool(
    func: Callable[..., Any],
    *,
    name: str | None,
    description: str | None,
    needs_approval: bool,
    timeout_s: float | None,
    strict: bool,
) -> FunctionTool:
    if not callable(func):
        raise LocalProtocolError(f"function_tool needs a function, not {func!r}")
    tool_name = getattr(func, "__name__", None) if name is None else name
    if tool_name is None:
        raise LocalProtocolError(f"{func!r} has no __name__: give function_tool a name=")
    _refuse_bad_name(tool_name)  # before the schema, whose errors would name the tool
    if not isinstance(strict, bool):  # the schema is derived before FunctionTool checks it
        raise LocalProtocolError(f"function_tool: strict_mode must be a bool, got {strict!r}")
    where = f"tool {tool_name!r}"
    hints = type_hints(func, where)
    summary, documented = parse_docstring(getattr(func, "__doc__", None))
    parameters = list(inspect.signature(func).parameters.values())
    context = None
    if parameters and _is_tool_context(hints.get(parameters[0].name)):
        context = parameters.pop(0)
    props = []
    for p in parameters:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise LocalProtocolError(f"{where}: *args and **kwargs cannot be described as JSON")
        if p.name not in hints:
            hint = ""
            if p.name in ("ctx", "context"):
                hint = " (annotate it as ToolContext to receive the call)"
            raise LocalProtocolError(
                f"{where}: parameter {p.name!r} has no type hint; a strict schema needs one{hint}"
            )
        if _is_tool_context(hints[p.name]):
            raise LocalProtocolError(f"{where}: a ToolContext parameter must come first")
        props.append(
            Prop(
                name=p.name,
                annotation=hints[p.name],
                has_default=p.default is not p.empty,
                default=None if p.default is p.empty else p.default,
                description=documented.get(p.name),
                positional_only=p.kind == p.POSITIONAL_ONLY,
            )
        )
    schema, fields = object_schema(props, strict, where, ())
    binding = _Binding(
        context_param=None if context is None else context.name,
        context_positional=context is not None and context.kind != context.KEYWORD_ONLY,
        fields=tuple(fields),
    )
    return FunctionTool(
        name=tool_name,
        description=(summary or "") if description is None else description,
        params_json_schema=schema,
        on_invoke=func,
        strict_json_schema=strict,
        needs_approval=needs_approval,
        timeout_s=timeout_s,
        binding=binding,
    )


@overload
def function_tool(
    func: Callable[..., Any],
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    needs_approval: bool = False,
    timeout_s: float | None = None,
    strict_mode: bool = True,
) -> FunctionTool: ...


@overload
def function_tool(
    *,
    name: str | None = None,
    description: str | None = None,
    needs_approval: bool = False,
    timeout_s: float | None = None,
    strict_mode: bool = True,
) -> Callable[[Callable[..., Any]], FunctionTool]: ...


def function_tool(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    needs_approval: bool = False,
    timeout_s: float | None = None,
    strict_mode: bool = True,
) -> FunctionTool | Callable[[Callable[..., Any]], FunctionTool]:
    """Make a FunctionTool of a sync or async function, bare or with options.

    The schema comes from the type hints (str, int, float, bool, list[T], tuple[T, ...],
    Optional and unions, Literal, Enum, dataclasses, attrs classes, TypedDicts; ``dict[str, T]``
    only with ``strict_mode=False``, since strict schemas forbid free-form objects); the
    descriptions from the docstring (its first paragraph; ``Args:`` or ``:param x:`` entries)
    and ``Annotated[T, "text"]``. A first parameter annotated ``ToolContext`` is not in the
    schema: the driver passes the call's context there.
    """

    def decorate(f: Callable[..., Any]) -> FunctionTool:
        return _make_tool(
            f,
            name=name,
            description=description,
            needs_approval=needs_approval,
            timeout_s=timeout_s,
            strict=strict_mode,
        )

    return decorate if func is None else decorate(func)


# -- handoffs ------------------------------------------------------------------------------


def _default_handoff_name(agent_name: str) -> str:
    return "transfer_to_" + re.sub(r"[^A-Za-z0-9_]", "_", agent_name).lower()


def _default_handoff_description(agent: Agent) -> str:
    text = f"Handoff to the {agent.name} agent to handle the request."
    return f"{text} {agent.handoff_description}" if agent.handoff_description else text


@attrs.frozen(kw_only=True, eq=False, repr=False)
class Handoff:
    """A transfer to another agent, offered to the model as a ``transfer_to_...`` tool.

    With ``input_type`` (a dataclass, attrs class or TypedDict) the model supplies an input of
    that shape and ``on_handoff(context, input)`` receives it; without, ``on_handoff(context)``.
    The driver calls ``on_handoff``; ``build_callback_args`` gives its arguments.
    """

    agent: Agent
    tool_name: str = attrs.field(validator=_check_tool_name)
    tool_description: str
    input_type: Any = None
    input_json_schema: dict[str, Any] | None = attrs.field(
        default=None, validator=_check_parameters
    )
    on_handoff: Callable[..., Any] | None = None
    _convert_input: Convert | None = attrs.field(init=False, default=None, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.input_type is None:
            return
        where = f"handoff {self.tool_name!r}, input_type"
        if class_props(self.input_type, where) is None:
            raise LocalProtocolError(
                f"{where}: {self.input_type!r} must be a dataclass, attrs class or TypedDict"
            )
        schema, convert = derive(self.input_type, True, where, ())
        object.__setattr__(self, "_convert_input", convert)
        if self.input_json_schema is None:
            object.__setattr__(self, "input_json_schema", schema)

    def __repr__(self) -> str:
        return f"Handoff(tool_name={self.tool_name!r}, agent={self.agent.name!r})"

    @property
    def agent_name(self) -> str:
        return self.agent.name

    @property
    def params_json_schema(self) -> dict[str, Any]:
        """The tool's parameters: the input schema, or an empty object."""
        return self.input_json_schema or empty_parameters()

    def to_wire(self) -> dict[str, Any]:
        """The GA session tool object of the ``transfer_to_...`` function."""
        return {
            "type": "function",
            "name": self.tool_name,
            "description": self.tool_description,
            "parameters": self.params_json_schema,
        }

    def parse_arguments(self, arguments_json: str) -> dict[str, Any]:
        """Like FunctionTool.parse_arguments, against the input schema."""
        return parse_object(self.tool_name, self.params_json_schema, arguments_json)

    def build_callback_args(self, parsed: Mapping[str, Any], context: Any) -> tuple[Any, ...]:
        """The positional arguments of ``on_handoff``: the context, then the input if any."""
        if self._convert_input is not None:
            try:
                return context, self._convert_input(dict(parsed))
            except (TypeError, ValueError, AttributeError) as exc:
                raise ToolArgumentsError(f"handoff input: {exc}") from exc
        if self.input_json_schema is not None:
            return context, dict(parsed)
        return (context,)


def handoff(
    agent: Agent,
    *,
    tool_name_override: str | None = None,
    tool_description_override: str | None = None,
    input_type: Any = None,
    on_handoff: Callable[..., Any] | None = None,
) -> Handoff:
    """A Handoff to ``agent``, named ``transfer_to_<name>`` unless overridden."""
    if input_type is not None and on_handoff is None:
        raise LocalProtocolError("a handoff with an input_type needs an on_handoff to receive it")
    if on_handoff is not None:
        arity = 2 if input_type is not None else 1
        try:
            inspect.signature(on_handoff).bind(*([None] * arity))
        except TypeError:
            raise LocalProtocolError(
                f"on_handoff must take {arity} positional argument(s)"
                + (" (context, input)" if arity == 2 else " (context)")
            ) from None
        except ValueError:
            pass  # no signature to read (some builtins): trust the caller
    return Handoff(
        agent=agent,
        tool_name=tool_name_override or _default_handoff_name(agent.name),
        tool_description=tool_description_override or _default_handoff_description(agent),
        input_type=input_type,
        on_handoff=on_handoff,
    )


# -- output guardrails ---------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class GuardrailFunctionOutput:
    """What a guardrail function returns: whether to stop the response, and why."""

    tripwire_triggered: bool
    output_info: Any = None


GuardrailFunction: TypeAlias = Callable[
    [Any, "Agent", str], GuardrailFunctionOutput | Awaitable[GuardrailFunctionOutput]
]


@attrs.frozen(kw_only=True, eq=False)
class OutputGuardrail:
    """A check of the assistant's text: ``guardrail_function(context, agent, text)``."""

    guardrail_function: GuardrailFunction = attrs.field(validator=_check_callable)
    name: str | None = None

    def get_name(self) -> str:
        if self.name:
            return self.name
        return str(
            getattr(self.guardrail_function, "__name__", type(self.guardrail_function).__name__)
        )


@overload
def output_guardrail(func: GuardrailFunction, /) -> OutputGuardrail: ...


@overload
def output_guardrail(
    *, name: str | None = None
) -> Callable[[GuardrailFunction], OutputGuardrail]: ...


def output_guardrail(
    func: GuardrailFunction | None = None, /, *, name: str | None = None
) -> OutputGuardrail | Callable[[GuardrailFunction], OutputGuardrail]:
    """Make an OutputGuardrail of a function, bare or as ``@output_guardrail(name=...)``."""

    def decorate(f: GuardrailFunction) -> OutputGuardrail:
        return OutputGuardrail(guardrail_function=f, name=name)

    return decorate if func is None else decorate(func)


# -- agents --------------------------------------------------------------------------------


def _to_tools(value: Iterable[FunctionTool]) -> tuple[FunctionTool, ...]:
    tools = tuple(value)
    for tool in tools:
        if not isinstance(tool, FunctionTool):
            raise LocalProtocolError(
                f"Agent tools must be FunctionTool objects, not {tool!r}; decorate the"
                " function with @function_tool"
            )
    return tools


def _to_handoffs(value: Iterable[Agent | Handoff]) -> tuple[Handoff, ...]:
    handoffs = []
    for target in value:
        if isinstance(target, Agent):
            handoffs.append(handoff(target))
        elif isinstance(target, Handoff):
            handoffs.append(target)
        else:
            raise LocalProtocolError(f"Agent handoffs take Agents or Handoffs, not {target!r}")
    return tuple(handoffs)


def _to_guardrails(value: Iterable[OutputGuardrail]) -> tuple[OutputGuardrail, ...]:
    guardrails = tuple(value)
    for guardrail in guardrails:
        if not isinstance(guardrail, OutputGuardrail):
            raise LocalProtocolError(
                f"output_guardrails take OutputGuardrail objects, not {guardrail!r};"
                " decorate the function with @output_guardrail"
            )
    return guardrails


def _check_instructions(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) and not callable(value):
        raise LocalProtocolError(
            f"instructions must be a string or a function of the context, not {value!r}"
        )


def _check_name(instance: Any, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value:
        raise LocalProtocolError(f"an agent needs a non-empty name, not {value!r}")


@attrs.frozen(kw_only=True, eq=False, repr=False)
class Agent:
    """A realtime agent: instructions, tools, handoffs to other agents, output guardrails.

    ``instructions`` is a string, or a sync or async function of the run context that the
    driver resolves at each agent start. Frozen: derive variants with ``clone``. Equality is
    identity, so agents can key dicts.
    """

    name: str = attrs.field(default="Agent", validator=_check_name)
    """Shown in events and in the ``transfer_to_<name>`` tool of a handoff to it; the seed's
    default is ``"Agent"``."""
    instructions: Instructions = attrs.field(default="", validator=_check_instructions)
    tools: tuple[FunctionTool, ...] = attrs.field(default=(), converter=_to_tools)
    handoffs: tuple[Handoff, ...] = attrs.field(default=(), converter=_to_handoffs)
    output_guardrails: tuple[OutputGuardrail, ...] = attrs.field(
        default=(), converter=_to_guardrails
    )
    handoff_description: str | None = None
    _by_name: dict[str, FunctionTool | Handoff] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        by_name: dict[str, FunctionTool | Handoff] = {}
        for tool in self.all_tools():
            name = tool.name if isinstance(tool, FunctionTool) else tool.tool_name
            clash = by_name.get(name)
            if clash is not None:
                raise LocalProtocolError(
                    f"agent {self.name!r}: tool name {name!r} is used by both {_what(clash)}"
                    f" and {_what(tool)}"
                )
            by_name[name] = tool
        object.__setattr__(self, "_by_name", by_name)

    @property
    def static_instructions(self) -> str | None:
        """The instructions when they are a string; None when a function gives them."""
        return self.instructions if isinstance(self.instructions, str) else None

    @property
    def instructions_are_dynamic(self) -> bool:
        return not isinstance(self.instructions, str)

    def all_tools(self) -> tuple[FunctionTool | Handoff, ...]:
        """The function tools, then one tool per handoff, in order (as the session offers)."""
        return (*self.tools, *self.handoffs)

    def find_tool(self, name: str) -> FunctionTool | Handoff | None:
        """The function tool or handoff the model calls by ``name``, or None."""
        return self._by_name.get(name)

    def clone(self, **changes: Any) -> Agent:
        """A copy with some fields changed (``tools``, ``instructions``...)."""
        return attrs.evolve(self, **changes)

    def __repr__(self) -> str:
        # Agents appear in every session event: a repr that dumped every tool's schema
        # would drown a log line.
        tools = ", ".join(tool.name for tool in self.tools)
        handoffs = ", ".join(h.agent.name for h in self.handoffs)
        return f"Agent(name={self.name!r}, tools=[{tools}], handoffs=[{handoffs}])"


def _what(tool: FunctionTool | Handoff) -> str:
    if isinstance(tool, FunctionTool):
        return f"function tool {tool.name!r}"
    return f"the handoff to agent {tool.agent_name!r}"
