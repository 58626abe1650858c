"""Payload templates: Jinja2 in a bounded sandbox, checked when saved, rendered per delivery.

A webhook may have a ``body_template`` (its request body instead of the fixed Standard
Webhooks envelope; still signed) and a notification target has title and body templates.
Templates see:

* ``event`` - the event name (``subtitle_downloaded``), ``event_label`` - its label;
* ``id`` - the delivery id (the ``webhook-id`` header), ``event_id`` - the event's id;
* ``timestamp`` - when the event was emitted (ISO-8601 UTC);
* ``payload`` - the event's payload (keys from the event catalog).

Safety, on top of Jinja2's ``ImmutableSandboxedEnvironment`` (no ``_``-attributes, no
mutation of lists or dicts):

* ``check_template`` (when saved) refuses - ``ValidationError`` naming the line - a
  syntax error, a source over ``MAX_SOURCE_CHARS``, an attribute or item starting with
  ``_`` (``''.__class__.__mro__``), recursive loops, names outside the context and, for
  a named event, ``payload.<key>`` not in its catalog payload keys (``payload["key"]``
  is not checked: for templates meant for several events, where a key may be absent).
* Rendering is bounded: every loop iteration, call and output piece counts against
  ``MAX_STEPS`` and a wall-clock budget (``MAX_RENDER_SECONDS``); ``range`` gives at most
  ``MAX_RANGE`` items (``range(10**9)`` is refused); ``**``, ``*``, ``+``, ``%`` and ``~``
  refuse results over ``MAX_OUTPUT_CHARS`` (or huge numbers) before building them; only a
  list of filters and string/dict methods that cannot blow up is available; the text
  produced (also inside macros and ``{% set %}`` blocks) may not pass ``MAX_OUTPUT_CHARS``
  in total. Breaking a bound raises ``TemplateRenderError``: the delivery attempt fails
  with that message in the log.

Compiled templates are cached by source (``compiled``), so a delivery renders without
compiling.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from jinja2 import ChainableUndefined, TemplateSyntaxError, Undefined, nodes, pass_context
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer
from markupsafe import Markup

from sublarr.core.errors import SublarrError, ValidationError

logger = logging.getLogger(__name__)

MAX_SOURCE_CHARS = 16_384
MAX_OUTPUT_CHARS = 65_536
MAX_STEPS = 100_000
MAX_RENDER_SECONDS = 0.25
MAX_RANGE = 10_000
MAX_INT_BITS = 4096
_CACHE_SIZE = 256

CONTEXT_NAMES = frozenset({"event", "event_label", "id", "event_id", "timestamp", "payload"})
GLOBAL_NAMES = frozenset({"range", "namespace", "dict", "true", "false", "none", "loop"})

# Names of the guard helpers the compiled template calls (the user cannot write them:
# a name starting with "__" is refused by check_template).
_ITER, _OUT, _CONCAT, _BUDGET = "__sublarr_iter", "__sublarr_out", "__sublarr_concat", "__sublarr_budget"

# Methods that cannot make a value much larger than their input.
_SAFE_METHODS: dict[type, frozenset[str]] = {
    str: frozenset(
        {
            "lower",
            "upper",
            "title",
            "capitalize",
            "strip",
            "lstrip",
            "rstrip",
            "startswith",
            "endswith",
            "split",
            "rsplit",
            "splitlines",
            "casefold",
            "isdigit",
            "isalpha",
            "count",
            "find",
            "rfind",
            "partition",
            "rpartition",
            "removeprefix",
            "removesuffix",
        }
    ),  # fmt: skip
    dict: frozenset({"keys", "values", "items", "get"}),
    list: frozenset({"index", "count"}),
    tuple: frozenset({"index", "count"}),
}
# Filters that cannot blow up; those that can (center, indent, wordwrap, format, replace
# (wrapped below), lipsum, urlize, xmlattr, ...) are left out.
_SAFE_FILTERS = frozenset(
    {
        "abs", "attr", "capitalize", "count", "d", "default", "dictsort", "e", "escape",
        "filesizeformat", "first", "float", "forceescape", "groupby", "int", "items", "join", "last",
        "length", "list", "lower", "map", "max", "min", "reject", "rejectattr", "reverse", "round",
        "safe", "select", "selectattr", "sort", "string", "striptags", "sum", "title",
        "tojson", "trim", "truncate", "unique", "upper", "urlencode", "wordcount",
    }
)  # fmt: skip


_LOOP_ATTRIBUTES = frozenset(
    {"index", "index0", "revindex", "revindex0", "first", "last", "length", "depth", "depth0",
     "previtem", "nextitem", "cycle", "changed"}
)  # fmt: skip


# Filters whose result is no larger than their input (or a number): not checked after each call.
_FILTERS_THAT_CANNOT_GROW = frozenset(
    {"abs", "capitalize", "count", "d", "default", "first", "float", "int", "last", "length", "lower",
     "max", "min", "reverse", "round", "safe", "striptags", "sum", "title", "trim", "truncate", "upper",
     "wordcount", "tojson"}
)  # fmt: skip  # tojson: bounded by the payload (and its indent by 0..8)


class TemplateRenderError(SublarrError):
    """A template broke a bound or failed while rendering; the message says which."""


class _Budget:
    """Steps, time and characters left to one render."""

    __slots__ = ("chars", "deadline", "steps")

    def __init__(self) -> None:
        self.steps = MAX_STEPS
        self.chars = MAX_OUTPUT_CHARS * 4  # what is produced anywhere, macros and set-blocks too
        self.deadline = time.monotonic() + MAX_RENDER_SECONDS

    def step(self) -> None:
        self.steps -= 1
        if self.steps < 0:
            raise TemplateRenderError(f"the template took more than {MAX_STEPS} steps (loops, calls)")
        if not self.steps & 255 and time.monotonic() > self.deadline:
            raise TemplateRenderError(f"the template took longer than {MAX_RENDER_SECONDS} s to render")


_SIZED = frozenset({str, bytes, list, tuple, Markup})


def _size(value: Any) -> int:
    return len(value) if value.__class__ in _SIZED else 0


def _check_size(value: Any, what: str) -> Any:
    if value.__class__ in _SIZED and len(value) > MAX_OUTPUT_CHARS:
        raise TemplateRenderError(f"{what} would be longer than {MAX_OUTPUT_CHARS} characters")
    return value


def _pow(left: Any, right: Any) -> Any:
    if (
        isinstance(left, int)
        and isinstance(right, int)
        and right > 0
        and max(abs(left), 2).bit_length() * right > MAX_INT_BITS
    ):
        raise TemplateRenderError(f"{left} ** {right} is too large a number")
    return left**right


def _mul(left: Any, right: Any) -> Any:
    for seq, times in ((left, right), (right, left)):
        if (
            isinstance(seq, (str, list, tuple))
            and isinstance(times, int)
            and len(seq) * max(times, 0) > MAX_OUTPUT_CHARS
        ):
            raise TemplateRenderError(f"repeating a value would pass {MAX_OUTPUT_CHARS} characters")
    if (
        isinstance(left, int)
        and isinstance(right, int)
        and left.bit_length() + right.bit_length() > MAX_INT_BITS
    ):
        raise TemplateRenderError("the product is too large a number")
    return left * right


def _add(left: Any, right: Any) -> Any:
    if _size(left) + _size(right) > MAX_OUTPUT_CHARS:
        raise TemplateRenderError(f"joining values would pass {MAX_OUTPUT_CHARS} characters")
    return left + right


def _mod(left: Any, right: Any) -> Any:
    if isinstance(left, str):
        raise TemplateRenderError("'%' formatting of text is not available; use ~ to join text")
    return left % right


def _replace(value: Any, old: Any, new: Any, count: int | None = None) -> str:
    text, old, new = str(value), str(old), str(new)
    hits = text.count(old) if old else len(text) + 1
    if count is not None:
        hits = min(hits, max(int(count), 0))
    if len(text) + hits * max(len(new) - len(old), 0) > MAX_OUTPUT_CHARS:
        raise TemplateRenderError(f"replace would pass {MAX_OUTPUT_CHARS} characters")
    return text.replace(old, new, -1 if count is None else int(count))


def _json_default(value: Any) -> Any:
    return None if isinstance(value, Undefined) else str(value)


def _tojson(value: Any, indent: int | None = None) -> str:
    """JSON text of ``value`` (an undefined value is ``null``); for JSON bodies, not HTML."""
    if indent is not None and not 0 <= int(indent) <= 8:
        raise TemplateRenderError("tojson: indent must be 0..8")
    if isinstance(value, Undefined):
        value = None
    if indent is None:
        if value.__class__ is str:  # the common case in a JSON body, and the fastest
            return _STRING_JSON(value)
        return _JSON.encode(value)
    return json.dumps(value, ensure_ascii=False, indent=indent, default=_json_default)


_JSON = json.JSONEncoder(ensure_ascii=False, default=_json_default)
# JSON text of one string (the C function where CPython has it), as JSONEncoder writes strings.
_STRING_JSON: Callable[[str], str] = json.encoder.encode_basestring


class _Environment(ImmutableSandboxedEnvironment):
    """The sandbox with sublarr's bounds (see the module docs)."""

    intercepted_binops = frozenset({"**", "*", "+", "%", "//"})

    def __init__(self) -> None:
        super().__init__(undefined=ChainableUndefined, autoescape=False, keep_trailing_newline=False)
        self.binop_table.update({"**": _pow, "*": _mul, "+": _add, "%": _mod})
        kept = {name: self.filters[name] for name in _SAFE_FILTERS if name in self.filters}
        kept["replace"] = _replace
        kept["tojson"] = _tojson
        self.filters = {
            name: func if name in _FILTERS_THAT_CANNOT_GROW else self._guarded_filter(func)
            for name, func in kept.items()
        }
        self.filters.update({_ITER: _guard_iter, _OUT: _guard_out, _CONCAT: _guard_concat})
        self.globals = {"range": self._range, "namespace": self.globals["namespace"], "dict": dict}

    @staticmethod
    def _guarded_filter(func: Callable[..., Any]) -> Callable[..., Any]:
        # Jinja passes the environment / context / eval context first to filters marked
        # so; the wrapper keeps that marking and checks what comes back.
        @functools.wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            return _check_size(func(*args, **kwargs), "a filter's result")

        return guarded

    @staticmethod
    def _range(*args: int) -> range:
        numbers = range(*args)
        if len(numbers) > MAX_RANGE:
            raise TemplateRenderError(f"range() of {len(numbers)} items: at most {MAX_RANGE}")
        return numbers

    def wrap_str_format(self, value: Any) -> None:
        """``str.format``/``format_map`` are not available (a width can make any size)."""
        return None

    def getattr(self, obj: Any, attribute: str) -> Any:
        if obj.__class__ is LoopContext and attribute in _LOOP_ATTRIBUTES:  # hot in loops: no checks needed
            return getattr(obj, attribute)
        return super().getattr(obj, attribute)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        if callable(value):
            allowed = _SAFE_METHODS.get(type(obj))
            return allowed is not None and attr in allowed
        return True

    def call(
        __self,  # noqa: N805 - Jinja's signature: positional names that cannot clash with kwargs
        __context: Any,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        budget = __context.parent.get(_BUDGET)
        if isinstance(budget, _Budget):
            budget.step()
        return _check_size(super().call(__context, __obj, *args, **kwargs), "a call's result")


# The guards, as filters taking the context: the compiled template calls filters directly
# (calls would go through the sandbox's ``call``, several times slower).
@pass_context
def _guard_iter(context: Any, items: Iterable[Any]) -> Iterator[Any]:
    budget: _Budget = context.parent[_BUDGET]
    for item in items:
        budget.step()
        yield item


@pass_context
def _guard_out(context: Any, value: Any) -> str:
    budget: _Budget = context.parent[_BUDGET]
    budget.step()
    text = value if value.__class__ is str else str(value)
    budget.chars -= len(text)
    if budget.chars < 0:
        raise TemplateRenderError(f"the template produced more than {MAX_OUTPUT_CHARS * 4} characters")
    return text


@pass_context
def _guard_concat(context: Any, parts: Sequence[Any]) -> str:
    context.parent[_BUDGET].step()
    joined = "".join(map(str, parts))
    _check_size(joined, "joining values with ~")
    return joined


def _guarded(name: str, node: nodes.Node) -> nodes.Filter:
    return nodes.Filter(node, name, [], [], None, None, lineno=node.lineno)


class _Guard(NodeTransformer):
    """Routes loops, output and ``~`` of a parsed template through the guard filters."""

    def visit_For(self, node: nodes.For) -> nodes.Node:  # noqa: N802 - NodeTransformer's naming
        self.generic_visit(node)
        node.iter = _guarded(_ITER, node.iter)
        return node

    def visit_Output(self, node: nodes.Output) -> nodes.Node:  # noqa: N802
        self.generic_visit(node)
        node.nodes = [
            child if isinstance(child, nodes.TemplateData) else _guarded(_OUT, child) for child in node.nodes
        ]
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:  # noqa: N802
        self.generic_visit(node)
        return _guarded(_CONCAT, nodes.List(node.nodes, lineno=node.lineno))


_env: _Environment | None = None


def environment() -> _Environment:
    """The one sandboxed environment (created at first use)."""
    global _env
    if _env is None:
        _env = _Environment()
    return _env


def _line_error(field: str, lineno: int | None, reason: str) -> ValidationError:
    where = f"line {lineno}: " if lineno else ""
    return ValidationError(field, f"{where}{reason}")


def _payload_keys_of(events: str | Sequence[str] | None) -> frozenset[str] | None:
    """The payload keys of the event(s), or ``None`` (``*``, ``None``, or an unknown event)."""
    names = [events] if isinstance(events, str) else list(events or [])
    if not names or "*" in names:
        return None
    from sublarr.core.events.catalog import EVENT_CATALOG

    keys: set[str] = set()
    for name in names:
        entry = EVENT_CATALOG.get(name)
        if entry is None:
            return None
        keys.update(entry["payload_keys"])
    return frozenset(keys)


def _static_check(field: str, tree: nodes.Template, payload_keys: frozenset[str] | None) -> None:
    """Refuse private attributes, recursive loops, and payload keys the event does not have."""
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.For, nodes.Name, nodes.Filter)):
        if isinstance(node, nodes.Filter) and node.name.startswith("_"):
            raise _line_error(field, node.lineno, f"the filter {node.name!r} is not available")
        if isinstance(node, nodes.For) and node.recursive:
            raise _line_error(field, node.lineno, "recursive loops are not available")
        if isinstance(node, nodes.Name) and node.name.startswith("_"):
            raise _line_error(field, node.lineno, f"the name {node.name!r} is not available")
        key: Any = None
        if isinstance(node, nodes.Getattr):
            key = node.attr
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            key = node.arg.value
        if isinstance(key, str) and key.startswith("_"):
            raise _line_error(field, node.lineno, f"attributes starting with '_' are refused ({key!r})")
        target = getattr(node, "node", None)
        if (
            payload_keys is not None
            and isinstance(node, nodes.Getattr)  # payload["key"] is not checked (module docs)
            and isinstance(key, str)
            and isinstance(target, nodes.Name)
            and target.name == "payload"
            and key not in payload_keys
            and key not in _SAFE_METHODS[dict]
        ):
            raise _line_error(
                field,
                node.lineno,
                f"payload has no key {key!r} for this event (its keys: {', '.join(sorted(payload_keys))})",
            )


def _undeclared(tree: nodes.Template) -> set[str]:
    from jinja2 import meta

    return set(meta.find_undeclared_variables(tree))


def check_template(source: Any, event_name: str | Sequence[str] | None, field: str = "body_template") -> str:
    """``source`` if it is a template that may be saved for ``event_name``; else ``ValidationError``.

    The message names the line (syntax errors, ``_``-attributes, names outside the
    context, payload keys the event does not have). ``event_name`` may be a list (the keys
    of any of them are allowed); ``*`` or ``None`` skips the payload-key check.
    """
    if not isinstance(source, str):
        raise ValidationError(field, "must be a string (a Jinja2 template)")
    if len(source) > MAX_SOURCE_CHARS:
        raise ValidationError(field, f"is longer than {MAX_SOURCE_CHARS} characters")
    if "\x00" in source:
        raise ValidationError(field, "must not contain NUL characters")
    env = environment()
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        raise _line_error(field, exc.lineno, f"syntax error: {exc.message}") from None
    _static_check(field, tree, _payload_keys_of(event_name))
    try:
        unknown = _undeclared(tree) - CONTEXT_NAMES - GLOBAL_NAMES
    except TemplateSyntaxError as exc:  # an unknown filter or test
        raise _line_error(field, exc.lineno, exc.message or str(exc)) from None
    if unknown:
        name = sorted(unknown)[0]
        lineno = next((n.lineno for n in tree.find_all(nodes.Name) if n.name == name), None)
        raise _line_error(
            field,
            lineno,
            f"unknown name {name!r}; a template sees {', '.join(sorted(CONTEXT_NAMES))}",
        )
    try:
        compiled(source)
    except (TemplateError, RecursionError) as exc:  # what parse accepted but compile refuses
        raise ValidationError(field, f"cannot be compiled: {exc}") from None
    return source


class CompiledTemplate:
    """A checked template, compiled once, rendered with a fresh budget each time."""

    __slots__ = ("_template",)

    def __init__(self, source: str) -> None:
        env = environment()
        tree = _Guard().visit(env.parse(source))
        tree.set_environment(env)
        self._template = env.from_string(tree)

    def render(self, context: Mapping[str, Any]) -> str:
        """The text; ``TemplateRenderError`` when a bound is broken or rendering fails."""
        variables = {**context, _BUDGET: _Budget()}
        pieces: list[str] = []
        size = 0
        try:
            for piece in self._template.generate(variables):
                size += len(piece)
                if size > MAX_OUTPUT_CHARS:
                    raise TemplateRenderError(f"the output is longer than {MAX_OUTPUT_CHARS} characters")
                pieces.append(piece)
        except TemplateRenderError:
            raise
        except SecurityError as exc:
            raise TemplateRenderError(f"refused by the sandbox: {exc}") from None
        except RecursionError:
            raise TemplateRenderError("the template recursed too deeply") from None
        except Exception as exc:  # noqa: BLE001 - any failure of user code is the attempt's error
            raise TemplateRenderError(f"{type(exc).__name__}: {exc}") from None
        return "".join(pieces)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def compiled(source: str) -> CompiledTemplate:
    """The compiled template of ``source`` (cached; ``source`` was checked when saved)."""
    return CompiledTemplate(source)


def template_context(
    delivery_id: str, event_name: str, event_id: str, timestamp: str, payload: Mapping[str, Any]
) -> dict[str, Any]:
    """What a template sees (module docs)."""
    from sublarr.core.events.catalog import EVENT_CATALOG

    entry = EVENT_CATALOG.get(event_name)
    return {
        "event": event_name,
        "event_label": entry["label"] if entry is not None else event_name,
        "id": delivery_id,
        "event_id": event_id,
        "timestamp": timestamp,
        "payload": payload,
    }


def render(source: str, context: Mapping[str, Any]) -> str:
    """Render a saved template with ``context`` (``template_context``); ``TemplateRenderError``."""
    return compiled(source).render(context)
