"""A guard on the cost of rendering a case page, counted in Python function calls.

Timings are too noisy for a test; the number of calls is not. The case page of the demo's
il-portico renders in about 2,300 calls (from about 5,900 before the templates were made
cheaper: macros written inline, values looked up once, the page collected in one piece).
The limit leaves some 30% of room; a change that crosses it has most likely brought back a
macro called in a loop or a filter doing a Python-level loop per value. Look at
`pstats.Stats(profile).sort_stats("ncalls").print_stats()` before raising it.
"""

from __future__ import annotations

import cProfile
from datetime import date
from pathlib import Path

from casebook.build import Renderer
from casebook.loader import load_cases

ROOT = Path(__file__).resolve().parent.parent
DAY = date(2026, 11, 20)
CASE_PAGE_CALLS = 3000


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
