"""A guard on the cost of rendering a case page, counted in Python function calls.

Timings are too noisy for a test; the number of calls is not. The page is rendered both ways a
build renders it: by Jinja's plain environment (a casebook without templates of its own) and
by the sandbox (a casebook with a `templates/` folder). The limit leaves some 30% of room over
what the page takes today (bench/instructions.py counts instructions, the figure that matters);
a change that crosses it has most likely brought back a macro called in a loop or a filter doing
a Python-level loop per value. Look at `pstats.Stats(profile).sort_stats("ncalls").print_stats()`
before raising it.
"""

from __future__ import annotations

import cProfile
import shutil
from datetime import date
from pathlib import Path

import pytest

from casebook.load.loader import load_cases
from casebook.site.pages import Renderer

ROOT = Path(__file__).resolve().parent.parent
DAY = date(2026, 11, 20)
CASE_PAGE_CALLS = 2900


@pytest.mark.parametrize("own_templates", [False, True])
def test_the_case_page_renders_in_few_function_calls(tmp_path: Path,
                                                      own_templates: bool) -> None:
    shutil.copy(ROOT / "casebook.yml", tmp_path / "casebook.yml")
    shutil.copytree(ROOT / "cases", tmp_path / "cases")
    if own_templates:
        shutil.copytree(ROOT / "templates", tmp_path / "templates")
    config, cases = load_cases(tmp_path)
    case = next(c for c in cases if c.id == "il-portico")
    renderer = Renderer(tmp_path, config, DAY, {})
    assert renderer.env.sandboxed is own_templates
    view = renderer.view(case)
    first = renderer.case_page(view)  # compiles the templates and fills the formatting caches
    profile = cProfile.Profile()
    profile.enable()
    again = renderer.case_page(view)
    profile.disable()
    assert again == first
    calls = sum(entry.callcount for entry in profile.getstats())  # pstats' total_calls
    assert calls < CASE_PAGE_CALLS, f"the case page took {calls} function calls"


def test_a_day_is_one_filter_with_the_markup_a_page_had_inline() -> None:
    from casebook.site.render import environment

    env = environment(None, "it", "EUR")
    inline = env.from_string('<time datetime="{{ d|iso }}">{{ d|date_short }}</time>')
    tagged = env.from_string("{{ d|date_tag }}")
    for day in (date(2026, 11, 20), date(999, 1, 1), date(2026, 2, 28)):
        assert tagged.render(d=day) == inline.render(d=day)
