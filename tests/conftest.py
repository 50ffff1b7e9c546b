from __future__ import annotations

import hashlib
import shutil
import textwrap
from datetime import date
from pathlib import Path

import pytest

from casebook.diagnostics import Diagnostic, ordered
from casebook.load.checks import check
from casebook.load.loader import load

TODAY = date(2026, 11, 20)


def write_casebook(root: Path, cases: dict[str, str], config: str | None = None) -> Path:
    if config is not None:
        (root / "casebook.yml").write_text(textwrap.dedent(config), encoding="utf-8")
    for name, text in cases.items():
        path = root / "cases" / f"{name}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    (root / "cases").mkdir(exist_ok=True)
    return root


def diagnose(root: Path, today: date = TODAY, *, rates: bool = False) -> list[Diagnostic]:
    """The diagnostics of a casebook; without `rates`, less the missing-rate warning that
    every day past the last known commercial rate brings."""
    found = ordered(check(load(root, use_cache=False), today))
    return [d for d in found if rates or d.code != "rate-missing"]


@pytest.fixture
def casebook(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write cases (and a config) into a fresh casebook and return its diagnostics."""

    def make(cases: dict[str, str], config: str | None = None,
             today: date = TODAY) -> list[Diagnostic]:
        write_casebook(tmp_path, cases, config)
        return diagnose(tmp_path, today)

    return make


ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A copy of the demo casebook."""
    target = tmp_path / "demo"
    target.mkdir()
    shutil.copy(ROOT / "casebook.yml", target / "casebook.yml")
    shutil.copytree(ROOT / "cases", target / "cases")
    return target


def tree(folder: Path) -> dict[str, str]:
    """Every file under `folder` (path → digest of its bytes)."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# -- the real browser: Debian's Chromium, driven by Playwright ---------------------------------

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, object]) -> dict[str, object]:
    """Playwright must use the system Chromium: no browser is ever downloaded."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"],
    }
