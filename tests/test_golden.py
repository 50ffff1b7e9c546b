"""Golden files: the demo's dashboard, a case page and every letter in both languages.

When one of these changes on purpose, rewrite them with UPDATE_GOLDEN=1 and review the diff
in tests/golden/ before committing it.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from casebook.load.loader import load_cases
from casebook.site.build import build
from casebook.site.pages import Renderer

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
DAY = date(2026, 11, 20)
LETTER_CASES = {
    "reminder": "carrozzeria-nava",
    "written-reminder": "lavanderia-orobica",
    "final-notice": "tipografia-galli",
    "formal-notice": "il-portico",
    "dossier": "immobiliare-belvedere",
    "plan-confirmation": "privati/conti-paolo",
    "statement": "mobilificio-carrara",
    "promise-confirmation": "privati/esposito-marco",
}


def check(name: str, text: str) -> None:
    golden = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.is_file(), f"missing golden file {name}: run with UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8"), f"{name} changed"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    book = tmp_path_factory.mktemp("golden")
    shutil.copy(ROOT / "casebook.yml", book / "casebook.yml")
    shutil.copytree(ROOT / "cases", book / "cases")
    build(book, DAY)
    return book / "site"


def test_dashboard(site: Path) -> None:
    check("site/index.html", (site / "index.html").read_text("utf-8"))


def test_case_page(site: Path) -> None:
    check("site/cases/il-portico.html", (site / "cases" / "il-portico.html").read_text("utf-8"))


@pytest.mark.parametrize("locale", ["it", "en"])
@pytest.mark.parametrize("letter", sorted(LETTER_CASES))
def test_letter(locale: str, letter: str) -> None:
    config, cases = load_cases(ROOT)
    config = dataclasses.replace(config, locale=locale)
    case = next(c for c in cases if c.id == LETTER_CASES[letter])
    renderer = Renderer(ROOT, config, DAY, {})
    view = renderer.view(case, letters=())
    check(f"letters/{locale}/{letter}.html", renderer.letter(view, letter, "html"))
    check(f"letters/{locale}/{letter}.txt", renderer.letter(view, letter, "txt"))
