"""Text made literal to Jinja renders back to itself, through dbt's own Jinja environment
(the end-to-end proof through `dbt build` is tests/test_jinja_injection.py)."""

from __future__ import annotations

import random

import pytest
from dbt_common.clients.jinja import get_environment

from dagster_agentic.errors import GuardrailError
from dagster_agentic.features.jinja import (
    jinja_string,
    literal_text,
    literal_tree,
    render_model,
    require_quotable,
)

HOSTILE = [
    "{{ run_query('DROP TABLE x') }}",
    "{% do adapter.execute('x') %}",
    "{# hidden #}",
    "{% endraw %}{{ env_var('HOME') }}",
    "{%- endraw -%}",
    "{%endraw%}",
    "{%+ endraw +%}",
    "{% raw %}{% endraw %}",
    "a{",
    "{",
    "}}",
    "%}",
    "{%",
    "{{%",
    "'\\\"",
    "back\\slash \\' quote'",
    "env_var('SECRET')",
    "ref('x')",
    "  source('raw', 'y')  ",
    "multi\nline {{ x }}\r\n",
    "unicode é ß 漢字 {{ ü }}",
    "",
]


def _render(text: str) -> str:
    return str(get_environment().from_string(text).render({}))


def _random_texts(count: int) -> list[str]:
    pieces = ["{", "}", "%", "#", "{{", "}}", "{%", "%}", "raw", "endraw", " ", "-", "'", "\\"]
    rng = random.Random(7)
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) for _ in range(count)]


@pytest.mark.parametrize("text", HOSTILE + _random_texts(300))
def test_literal_text_renders_to_itself(text: str) -> None:
    assert _render(literal_text(text)) == text


@pytest.mark.parametrize("text", HOSTILE)
def test_a_jinja_string_evaluates_to_itself(text: str) -> None:
    assert _render("{{ " + jinja_string(text) + " }}") == text


def test_plain_text_is_left_readable() -> None:
    assert literal_text("customers with 3 orders") == "customers with 3 orders"
    assert literal_tree({"name": "a", "tests": [{"x": "b"}], "n": 1}) == {
        "name": "a",
        "tests": [{"x": "b"}],
        "n": 1,
    }


def test_a_model_file_keeps_only_the_calls_it_placed() -> None:
    hostile = "{{ run_query('x') }}{% endraw %}"

    def sql(place: object) -> str:
        assert callable(place)
        return f"SELECT '{hostile}' AS v FROM {place('{{ 1 + 1 }}')} -- {hostile}"

    # Jinja drops a file's one trailing newline, as dbt's rendering of any model does.
    assert _render(render_model(sql)) == f"SELECT '{hostile}' AS v FROM 2 -- {hostile}"


@pytest.mark.parametrize("name", ['a"b', "tab\tle", "nul\x00", ""])
def test_names_dbt_cannot_quote_are_refused(name: str) -> None:
    with pytest.raises(GuardrailError) as refused:
        require_quotable("table", name)
    assert refused.value.rule == "jinja.name"


def test_names_dbt_can_quote_pass() -> None:
    for name in ("orders", "Order Lines", "{{ x }}", "a.b", "it's"):
        assert require_quotable("table", name) == name
