"""Prompts: asking a person for input (semantics.md §26, executor-protocol.md §6.9).

``Prompt(...)()`` submits the prompt and waits for the response; ``Prompt(...).submit()`` returns
an ``Input`` handle that can be passed to other executions. Example::

    approved = cf.Prompt("Deploy {service}?", model=bool, service="api", actions=["Deploy", "Skip"])()
"""

from __future__ import annotations

import json

from . import context, options
from .models import Input

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_SIMPLE_SCHEMAS = {
    bool: {"type": "boolean"},
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    list: {"type": "array"},
    dict: {"type": "object"},
}


def schema_for(model: Any) -> str | None:
    """JSON Schema text for a model: a Pydantic model class or ``bool``/``str``/``int``/…"""
    if model is None:
        return None
    if model in _SIMPLE_SCHEMAS:
        return json.dumps(_SIMPLE_SCHEMAS[model])
    schema = getattr(model, "model_json_schema", None)
    if schema is not None:
        return json.dumps(schema())
    raise TypeError(f"cannot derive a JSON schema from {model!r}; pass schema= instead")


def _file_digest(path: Any) -> Any:
    import hashlib

    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except (OSError, TypeError):
        return path


def _stable_value(value: dict[str, Any]) -> dict[str, Any]:
    """A placeholder Value with temporary file paths replaced by content hashes (the paths differ
    on every attempt; the contents do not)."""
    result = dict(value)
    if result.get("type") == "file":
        result["path"] = _file_digest(result.get("path"))
    references = []
    for reference in result.get("references") or []:
        if isinstance(reference, list) and len(reference) > 2 and reference[0] == "fragment":
            reference = [*reference[:2], _file_digest(reference[2]), *reference[3:]]
        references.append(reference)
    result["references"] = references
    return result


def default_key(
    template: str,
    placeholders: dict[str, Any] | None,
    schema: str | None,
    title: str | None,
    actions: list[str] | None,
) -> str:
    """The de-duplication key sent when the prompt has none: the first 16 hex characters of
    SHA-256 over template, placeholders (JSON, sorted keys), schema, title and actions."""
    parts = [template]
    if placeholders:
        stable = {k: _stable_value(v) for k, v in placeholders.items()}
        parts.append(json.dumps(stable, sort_keys=True))
    if schema is not None:
        parts.append(schema)
    if title is not None:
        parts.append(title)
    if actions is not None:
        parts.append(json.dumps(actions))
    import hashlib

    return hashlib.sha256("".join(parts).encode("utf-8")).hexdigest()[:16]


class Prompt:
    """A prompt for a person: a Markdown ``template`` with ``{name}`` placeholders.

    ``model`` (``bool``, ``str``, ``int``, ``float`` or a Pydantic model class) both derives the
    JSON schema and validates the response; ``schema`` (a dict or JSON text) may be given
    instead. ``title``, ``actions`` (``[respond label, dismiss label]``), ``initial`` (pre-filled
    response, needs a schema), ``key`` (de-duplication; computed when omitted) and ``requires``
    (routing to responders) are optional. Placeholder values come from ``placeholders`` and/or
    keyword arguments.
    """

    def __init__(
        self,
        template: str,
        *,
        model: Any = None,
        schema: dict[str, Any] | str | None = None,
        title: str | None = None,
        actions: list[str] | tuple[str, str] | None = None,
        initial: Any = None,
        key: str | None = None,
        requires: dict[str, Any] | None = None,
        placeholders: dict[str, Any] | None = None,
        **values: Any,
    ) -> None:
        if not isinstance(template, str):
            raise TypeError("template must be a string")
        if actions is not None:
            actions = list(actions)
            if len(actions) != 2 or not all(isinstance(a, str) for a in actions):
                raise ValueError("actions must be [respond label, dismiss label]")
        if schema is None:
            schema = schema_for(model)
        elif not isinstance(schema, str):
            schema = json.dumps(schema)
        dump = getattr(initial, "model_dump", None)
        if dump is not None:
            initial = dump(mode="json")
        if initial is not None:
            json.dumps(initial, allow_nan=False)  # must be plain JSON
        self.template = template
        self.model = model
        self.schema = schema
        self.title = title
        self.actions = actions
        self.initial = initial
        self.key = key
        self.requires = options.normalize_requires(requires)
        self.placeholders = {**(placeholders or {}), **values}

    def submit(self) -> Input:
        """Submit the prompt (or find the same one submitted earlier in this run) and return
        its ``Input`` handle."""
        ctx = context.require_context()
        placeholders = {k: ctx.serialize(v) for k, v in self.placeholders.items()}
        params: dict[str, Any] = {"template": self.template}
        if placeholders:
            params["placeholders"] = placeholders
        for name in ("schema", "title", "actions", "initial", "requires"):
            value = getattr(self, name)
            if value is not None:
                params[name] = value
        params["key"] = self.key or default_key(
            self.template, placeholders, self.schema, self.title, self.actions
        )
        result = ctx.request("submit_input", params)
        return Input(result["input_id"], self.model)

    def __call__(self) -> Any:
        """Submit and wait for the response (``InputDismissed`` if it is dismissed)."""
        return self.submit().result()
