"""Text written into the generated dbt project, made to render as itself.

dbt renders every model file and almost every YAML value as Jinja (names at parse time,
descriptions in ``process_docs``, test arguments at compile time), and it wraps a test
argument that merely *looks like* ``env_var(...)``, ``ref(...)``, ``var(...)``, ``source(...)``
or ``doc(...)`` in ``{{ }}`` before rendering it. Anything that reaches those files from the
warehouse (values, names, comments), the goal or a kernel's answer is untrusted, so:

* a model file is one ``{% raw %}`` block; only the ``source()``/``ref()`` calls the
  renderer itself places (:func:`render_model`) stand outside it;
* a YAML string that Jinja or dbt could treat as anything but text is wrapped the same way
  (:func:`literal_text`), recursively over the whole document (:func:`literal_tree`);
* a relation name dbt will quote itself is refused where it cannot be quoted
  (:func:`require_quotable`): dbt writes ``"<name>"`` without escaping embedded quotes.

The one piece of Jinja a raw block cannot hold is its own end tag, so every ``{%`` of the
text is emitted outside the block as the Jinja string ``'{%'``: nothing inside a raw block
can then close it. Carriage returns go the same way (Jinja turns ``\r\n`` into ``\n`` in a
template's text).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

from dagster_agentic.errors import GuardrailError

_RAW_OPEN, _RAW_CLOSE = "{% raw %}", "{% endraw %}"
_BLOCK_START = _RAW_CLOSE + "{{ '{%' }}" + _RAW_OPEN
_CARRIAGE_RETURN = _RAW_CLOSE + "{{ '\\r' }}" + _RAW_OPEN
# Characters after which dbt or Jinja may read a string as code: Jinja's delimiters, and the
# call syntax that dbt's test-argument renderer turns into ``{{ ... }}`` by itself.
_ACTIVE = re.compile(r"[{}%#(\r]")
_UNQUOTABLE = re.compile(r'["\x00-\x1f\x7f]')


def literal_text(text: str) -> str:
    """``text`` as Jinja source that renders to exactly ``text``.

    Plain text (no ``{ } % # (``) is returned unchanged, so ordinary names and descriptions
    stay readable in the generated files.
    """
    if not _ACTIVE.search(text):
        return text
    return _raw(text)


def _raw(text: str) -> str:
    # Jinja reads "\r\n" in a template as "\n": a carriage return is emitted as a string too.
    body = text.replace("{%", _BLOCK_START).replace("\r", _CARRIAGE_RETURN)
    return _RAW_OPEN + body + _RAW_CLOSE


def literal_tree(data: Any) -> Any:
    """Every string of a YAML document (keys too) through :func:`literal_text`."""
    if isinstance(data, str):
        return literal_text(data)
    if isinstance(data, dict):
        return {literal_tree(k): literal_tree(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [literal_tree(v) for v in data]
    return data


def jinja_string(text: str) -> str:
    """A Jinja string literal that evaluates to ``text`` (inside ``{{ ... }}``)."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    # Jinja normalises line breaks inside string literals too: write them as escapes.
    return "'" + escaped.replace("\r", "\\r").replace("\n", "\\n") + "'"


def require_quotable(kind: str, name: str) -> str:
    """Refuse a relation name that dbt cannot quote: it writes ``"name"`` verbatim."""
    if not name or _UNQUOTABLE.search(name):
        raise GuardrailError(
            f"{kind} {name!r} cannot be quoted safely in the generated dbt project (it holds a"
            " double quote or a control character)",
            fix=f"rename the {kind} in the warehouse, or leave it out of the goal",
            rule="jinja.name",
        )
    return name


def render_model(render: Callable[[Callable[[str], str]], str]) -> str:
    """A model file: ``render(place)`` writes the SQL, calling ``place(jinja_call)`` where a
    dbt call such as ``{{ source('raw', 't') }}`` belongs; everything else is literal text.

    The calls are put in after the text is escaped, through placeholders the text cannot hold
    (a fresh random token per file).
    """
    token = secrets.token_hex(8)
    calls: list[str] = []

    def place(call: str) -> str:
        calls.append(call)
        return f"\x00{token}:{len(calls) - 1}\x00"

    sql = render(place)
    parts = re.split(f"\x00{token}:([0-9]+)\x00", sql)
    out = []
    for index, part in enumerate(parts):
        if index % 2:
            out.append(calls[int(part)])
        elif part:
            out.append(_raw(part))
    return "".join(out) + "\n"
