"""pyproject's lower bounds and .ci/lowest.txt, the versions CI tests them with, name the same
dependencies at the same versions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENT = re.compile(r"([A-Za-z0-9._-]+)\s*(.*)")


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lower_bounds(pyproject: str) -> dict[str, str]:
    """Each dependency of a pyproject.toml (the `pdf` extra's too: CI installs it) and the
    version its `>=` names."""
    bounds = {}
    project = tomllib.loads(pyproject)["project"]
    extras = project.get("optional-dependencies", {}).get("pdf", [])
    for requirement in [*project["dependencies"], *extras]:
        found = REQUIREMENT.fullmatch(requirement.strip())
        assert found, requirement
        lowest = [c.strip()[2:] for c in found[2].split(",") if c.strip().startswith(">=")]
        assert len(lowest) == 1, f"{requirement}: give it one lower bound, `>=VERSION`"
        bounds[normal(found[1])] = lowest[0].strip()
    return bounds


def pinned(constraints: str) -> dict[str, str]:
    """Each `NAME==VERSION` of a constraints file."""
    pins = {}
    for line in constraints.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{line!r} is not NAME==VERSION"
            pins[normal(name)] = version.strip()
    return pins


def test_every_lower_bound_is_pinned_in_the_lowest_versions_ci_installs() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text("utf-8")
    lowest = (ROOT / ".ci" / "lowest.txt").read_text("utf-8")
    assert pinned(lowest) == lower_bounds(pyproject)


def test_a_bound_and_a_pin_that_disagree_are_told_apart() -> None:
    pyproject = '[project]\ndependencies = ["Jinja2>=3.1.6,<4", "markdown_it_py >= 3.0.0"]\n'
    assert lower_bounds(pyproject) == {"jinja2": "3.1.6", "markdown-it-py": "3.0.0"}
    assert pinned("jinja2==3.1.6  # why\nmarkdown-it-py==3.0.0\n") == lower_bounds(pyproject)
    assert pinned("jinja2==3.1.5\nmarkdown-it-py==3.0.0\n") != lower_bounds(pyproject)
    assert pinned("jinja2==3.1.6\n") != lower_bounds(pyproject)
