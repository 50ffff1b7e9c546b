"""The demo casebook: it validates, and the engine decides what was worked out by hand."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import yaml

from casebook.load.assess import assess
from tests.conftest import diagnose

ROOT = Path(__file__).resolve().parent.parent
DEMO_DAY = date(2026, 11, 20)


def test_demo_casebook_has_no_errors_or_warnings_but_the_missing_rate() -> None:
    found = diagnose(ROOT, DEMO_DAY, rates=True)
    assert [d.code for d in found] == ["rate-missing"]


def test_demo_decisions_match_the_hand_worked_expectations() -> None:
    expected = yaml.safe_load((ROOT / "tests" / "demo_expected.yml").read_text("utf-8"))
    rows = {row["case"]: row for row in assess(ROOT, DEMO_DAY).rows}
    assert set(rows) == set(expected)
    for case_id, want in expected.items():
        got = rows[case_id]
        assert (got["status"], got["action"], got["due"]) == (
            want["status"], want["action"], want["due"]), case_id


def test_demo_reaches_every_status() -> None:
    statuses = {row["status"] for row in assess(ROOT, DEMO_DAY).rows}
    assert statuses == {"closed", "settled", "on-hold", "disputed", "plan", "promise",
                        "overdue", "legal", "current", "court"}


def test_golden_next_json_all() -> None:
    """Review tests/golden/next-all.json when it changes (UPDATE_GOLDEN=1 rewrites it)."""
    import os

    from casebook.load.assess import urgency

    rows = sorted(assess(ROOT, DEMO_DAY).rows, key=urgency)
    text = json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    golden = ROOT / "tests" / "golden" / "next-all.json"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, "utf-8")
    assert text == golden.read_text("utf-8")
