"""The fake server's default brain: enough understanding for a demo to feel alive.

It is not a language model; it is a few transparent rules, applied in order to the latest
turn of the conversation that is not the assistant's own (so a reply asked for again after
it was cut short answers what it answered):

1. the latest item is a tool's output: say what it found (``"Here is what I found: ..."``), or
   after a handoff, greet as the new agent;
2. the user asks for another agent (``"transfer me to support"``, ``"can I talk to billing"``)
   and the session offers a ``transfer_to_<agent>`` tool: call it;
3. the user's words name a function tool or its purpose (``"weather in Paris"`` for
   ``get_weather``): call it, with arguments filled from simple patterns (a capitalised name
   after "in"/"for"/"at", ``<property> <value>``, the first number, an enum value mentioned);
4. otherwise, a short reply that shows it heard (``"You said: ..."``).

The same conversation always gets the same answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

__all__ = ["Decision", "decide", "fill_arguments"]

_STOPWORDS = frozenset(
    {
        "a",
        "an",
        "the",
        "to",
        "of",
        "for",
        "in",
        "on",
        "at",
        "and",
        "or",
        "is",
        "are",
        "be",
        "get",
        "set",
        "do",
        "make",
        "my",
        "me",
        "your",
        "it",
        "this",
        "that",
        "what",
        "whats",
        "how",
        "please",
        "can",
        "could",
        "would",
        "you",
        "i",
        "with",
        "from",
        "tool",
        "function",
    }
)
_TRANSFER = re.compile(
    r"\b(transfer|hand\s*off|handoff|connect|put me through|talk to|speak to|speak with|"
    r"talk with|switch to|pass me)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_PLACE = re.compile(r"\b(?:in|for|at|near|from|to)\s+((?:[A-Z][\w'-]*)(?:\s+[A-Z][\w'-]*)*)")


@attrs.frozen(kw_only=True)
class Decision:
    """What to say (``text``) or which tool to call (``tool`` with JSON ``arguments``)."""

    text: str | None = None
    tool: str | None = None
    arguments: str = "{}"


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)} - _STOPWORDS


def _name_words(name: str) -> set[str]:
    return {part.lower() for part in re.split(r"[_\W]+", name) if part} - _STOPWORDS


def decide(
    user_text: str | None,
    tools: Sequence[Mapping[str, Any]] = (),
    *,
    tool_output: str | None = None,
    tool_choice: str | Mapping[str, Any] = "auto",
) -> Decision:
    """The reply to the latest turn: ``tool_output`` when the latest item is one.

    ``tool_choice`` is the API's: ``"auto"`` (the rules above), ``"none"`` (never a call),
    ``"required"`` (a call whatever was said: the one the rules pick, else the first function
    tool), or ``{"type": "function", "name": ...}`` (that function)."""
    functions = [t for t in tools if t.get("type", "function") == "function" and t.get("name")]
    if isinstance(tool_choice, Mapping):
        named = next((t for t in functions if t["name"] == tool_choice.get("name")), None)
        if named is not None:
            return _call(named, user_text or "")
    elif tool_choice == "none":
        functions = []
    decision = _decide(user_text, functions, tool_output)
    if tool_choice == "required" and decision.tool is None and functions:
        return _call(functions[0], user_text or "")
    return decision


def _call(tool: Mapping[str, Any], text: str) -> Decision:
    return Decision(tool=str(tool["name"]), arguments=json.dumps(fill_arguments(text, tool)))


def _decide(
    user_text: str | None, functions: Sequence[Mapping[str, Any]], tool_output: str | None
) -> Decision:
    if tool_output is not None:
        transferred = _transfer_target(tool_output)
        if transferred is not None:
            return Decision(text=f"Hello, this is {transferred}. How can I help you?")
        return Decision(text=f"Here is what I found: {tool_output.strip() or 'nothing'}.")
    text = (user_text or "").strip()
    if not text:
        return Decision(text="I am listening.")
    said = _words(text)
    if _TRANSFER.search(text):
        for tool in functions:
            name = str(tool["name"])
            if name.startswith("transfer_to_") and _name_words(name[len("transfer_to_") :]) & said:
                return Decision(tool=name, arguments="{}")
    best: tuple[int, str] | None = None
    for tool in functions:
        name = str(tool["name"])
        if name.startswith("transfer_to_"):
            continue
        score = 2 * len(_name_words(name) & said) + len(
            _words(str(tool.get("description", ""))) & said
        )
        if score >= 2 and (best is None or score > best[0]):
            best = (score, name)
    if best is not None:
        return _call(next(t for t in functions if t["name"] == best[1]), text)
    return Decision(text=f"You said: {text.rstrip('.!?')}. What else can I do for you?")


def _transfer_target(tool_output: str) -> str | None:
    """The agent a handoff's output names (``{"assistant": "Support"}``), if it is one."""
    try:
        data = json.loads(tool_output)
    except ValueError:
        return None
    name = data.get("assistant") if isinstance(data, dict) and len(data) == 1 else None
    return name if isinstance(name, str) else None


def fill_arguments(text: str, tool: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments for ``tool`` taken from ``text`` by simple patterns; every required property
    gets a value of its schema's type, so the call passes a strict schema. The schema is the
    client's, unchecked (as far as the fake goes): what is not a schema reads as no schema."""
    parameters = _mapping(tool.get("parameters"))
    properties = _mapping(parameters.get("properties"))
    required = parameters.get("required")
    names = [r for r in required if isinstance(r, str)] if isinstance(required, list) else []
    places = [m.group(1) for m in _PLACE.finditer(text)]
    numbers = _NUMBER.findall(text)
    arguments: dict[str, Any] = {}
    for name in names or list(properties):
        arguments[name] = _value(name, _mapping(properties.get(name)), text, places, numbers)
    return arguments


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _types(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, list):
        return [str(k) for k in kind]
    if isinstance(kind, str):
        return [kind]
    options = schema.get("anyOf")
    if not isinstance(options, list):
        return []
    return [t for option in options if isinstance(option, Mapping) for t in _types(option)]


def _value(
    name: str, schema: Mapping[str, Any], text: str, places: list[str], numbers: list[str]
) -> Any:
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        lowered = text.lower()
        return next((v for v in enum if str(v).lower() in lowered), enum[0])
    types = _types(schema)
    stated = re.search(rf"\b{re.escape(name)}\b\s*(?:is|=|:)?\s*([\w.'-]+)", text, re.IGNORECASE)
    if "null" in types and not stated:
        return None  # an optional parameter the user did not mention: the tool's default
    if "string" in types:
        if stated:
            return stated.group(1)
        if places:
            return places.pop(0)
        capitalised = [w for w in _WORD.findall(text)[1:] if w[0].isupper()]
        return capitalised[0] if capitalised else text
    if "integer" in types or "number" in types:
        if numbers:
            value = numbers.pop(0)
            return int(float(value)) if "integer" in types else float(value)
        return 0
    if "boolean" in types:
        return bool(stated and stated.group(1).lower() in ("yes", "true", "on"))
    if "array" in types:
        return []
    if "object" in types:
        nested = {"parameters": schema}
        return fill_arguments(text, nested)
    return None
