"""A guard on the cost of rendering a case page, counted in Python function calls.

Timings are too noisy for a test; the number of calls is not. The case page of the demo's
il-portico renders in about 1,600 calls (from about 5,900 before the templates were made
cheaper: macros written inline, values looked up once, the page collected in one piece, each
value written out through one `escape` call instead of three).
The limit leaves some 30% of room; a change that crosses it has most likely brought back a
macro called in a loop or a filter doing a Python-level loop per value. Look at
`pstats.Stats(profile).sort_stats("ncalls").print_stats()` before raising it.
"""

from __future__ import annotations

import cProfile
from datetime import date
from pathlib import Path

import markupsafe
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from casebook.load.loader import load_cases
from casebook.site.build import Renderer
from casebook.site.render import environment
from casebook.site.sandbox import escape

ROOT = Path(__file__).resolve().parent.parent
DAY = date(2026, 11, 20)
CASE_PAGE_CALLS = 2100


def test_the_case_page_renders_in_few_function_calls() -> None:
    config, cases = load_cases(ROOT)
    case = next(c for c in cases if c.id == "il-portico")
    renderer = Renderer(ROOT, config, DAY, {})
    view = renderer.view(case)
    first = renderer.case_page(view)  # compiles the templates and fills the formatting caches
    profile = cProfile.Profile()
    profile.enable()
    again = renderer.case_page(view)
    profile.disable()
    assert again == first
    calls = sum(entry.callcount for entry in profile.getstats())  # pstats' total_calls
    assert calls < CASE_PAGE_CALLS, f"the case page took {calls} function calls"



def test_templates_write_values_through_the_short_escape() -> None:
    """The compiled templates bind `casebook.site.sandbox.escape` (one call per value written out)
    instead of markupsafe's (three): a Jinja upgrade that changes how the compiler imports
    its runtime names would quietly undo that."""
    env = environment(None, "it", "EUR")
    template = env.get_template("case.html")
    assert template.root_render_func.__globals__["escape"] is escape


def test_templates_read_plain_data_inline_and_private_names_through_the_sandbox() -> None:
    env = environment(None, "it", "EUR")
    code = env.compile("{{ case.debtor.name }}{{ case._secret }}", raw=True)
    assert "getattr(cb_o, 'name', missing)" in code and "getattr(cb_o, 'debtor', missing)" in code
    assert "environment.getattr(" in code and "getattr(cb_o, '_secret'" not in code


@given(st.one_of(st.text(), st.integers(), st.booleans(), st.none(), st.decimals(allow_nan=False),
                 st.dates(), st.text().map(Markup), st.text().map(markupsafe.escape)))
def test_the_short_escape_writes_what_markupsafe_writes(value: object) -> None:
    assert str(escape(value)) == str(markupsafe.escape(value))


def test_the_short_escape_leaves_markup_and_escapes_the_rest() -> None:
    assert escape('<a href="x">&') == "&lt;a href=&#34;x&#34;&gt;&amp;"
    assert escape(Markup("<b>")) == "<b>"

    class Shown:
        def __html__(self) -> str:
            return "<i>x</i>"

        def __str__(self) -> str:
            return "<script>"

    assert escape(Shown()) == "<i>x</i>"
    assert escape(type("S", (str,), {})("<")) == "&lt;"
