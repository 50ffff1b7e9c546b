"""One test per diagnostic: its exact line, column, severity and message."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import diagnose, write_casebook

GOOD = """\
---
debtor:
  name: Rossi S.r.l.
invoices:
  - number: "2026/1"
    date: 2026-07-01
    due: 2026-07-31
    amount: 1220.00
---
## 2026-09-01 phone reminder — Maria
Called.
"""

# (id, file text, expected: (line, col, severity, code, fragment of the message))
CASE_DIAGNOSTICS = [
    ("no-front-matter", "debtor: x\n", (1, 1, "error", "front-matter", "starts with a line '---'")),
    ("unterminated", "---\ndebtor:\n  name: x\n", (1, 1, "error", "front-matter", "never closed")),
    ("empty", "---\n---\nbody\n", (1, 1, "error", "front-matter", "front matter is empty")),
    ("not-a-mapping", "---\n- a\n- b\n---\n",
     (2, 1, "error", "type", "the front matter must be a mapping")),
    ("yaml-syntax", "---\ndebtor:\n  name: [x\n---\n", (4, 1, "error", "yaml", "YAML syntax")),
    ("unknown-key", "---\ndebtor:\n  name: x\n  emial: a@b.example\n---\n",
     (4, 3, "error", "unknown-key", "unknown key 'emial' in debtor (did you mean 'email'?)")),
    ("unknown-top-key", "---\ndebtor: {name: x}\ninvoice: []\n---\n",
     (3, 1, "error", "unknown-key", "(did you mean 'invoices'?)")),
    ("duplicate-key", "---\ndebtor:\n  name: x\n  name: y\n---\n",
     (4, 3, "error", "duplicate-key", "duplicate key 'name' in debtor (first at line 3)")),
    ("missing-key", "---\ndebtor:\n  kind: business\n---\n",
     (3, 3, "error", "missing-key", "debtor is missing the required key 'name'")),
    ("missing-debtor", "---\nowner: luca\n---\n",
     (2, 1, "error", "missing-key", "missing the required key 'debtor'")),
    ("wrong-type", "---\ndebtor: Rossi\n---\n",
     (2, 9, "error", "type", "debtor must be a mapping")),
    ("bad-kind", "---\ndebtor: {name: x, kind: company}\n---\n",
     (2, 25, "error", "value", "debtor kind must be business, consumer or public")),
    ("list-expected", "---\ndebtor: {name: x}\ninvoices: 12\n---\n",
     (3, 11, "error", "type", "invoices must be a list")),
    ("date-not-iso", GOOD.replace("date: 2026-07-01", "date: 01/07/2026"),
     (6, 11, "error", "date", "'01/07/2026' is not a date; write it as YYYY-MM-DD")),
    ("date-not-real", GOOD.replace("due: 2026-07-31", "due: 2026-02-30"),
     (7, 10, "error", "date", "2026-02-30 is not a real date")),
    ("money-zero", GOOD.replace("1220.00", "0"),
     (8, 13, "error", "amount", "the amount must be more than zero")),
    ("money-negative", GOOD.replace("1220.00", "-5.00"),
     (8, 13, "error", "amount", "the amount must be more than zero")),
    ("money-decimals", GOOD.replace("1220.00", "1220.001"),
     (8, 13, "error", "amount", "1220.001 has more than two decimals")),
    ("money-format", GOOD.replace("1220.00", '"1.220,00"'),
     (8, 13, "error", "amount", "is not an amount")),
    ("due-before-date", GOOD.replace("due: 2026-07-31", "due: 2026-06-30"),
     (7, 10, "error", "due-before-date", "due date 2026-06-30 is before the invoice date")),
    ("unknown-invoice", GOOD.replace(
        "---\n## ",
        "payments:\n  - {date: 2026-08-01, amount: 10.00, invoice: \"2026/2\"}\n---\n## "),
     (10, 48, "error", "unknown-invoice", "names invoice '2026/2', which is not an invoice")),
    ("dispute-unknown-invoice", GOOD.replace(
        "---\n## ", "disputes:\n  - invoice: \"X\"\n    opened: 2026-08-01\n---\n## "),
     (10, 14, "error", "unknown-invoice", "this dispute names invoice 'X'")),
    ("plan-without-instalments", GOOD.replace(
        "---\n## ", "plans:\n  - agreed: 2026-10-01\n    instalments: []\n---\n## "),
     (11, 18, "error", "empty-plan", "a plan needs at least one instalment")),
    ("log-bad-date", GOOD.replace("## 2026-09-01 phone", "## 2026-09-31 phone"),
     (10, 4, "error", "log-date", "'2026-09-31' is not a real date")),
    ("log-unknown-channel", GOOD.replace("## 2026-09-01 phone", "## 2026-09-01 phoen"),
     (10, 15, "error", "log-channel", "unknown channel 'phoen' (did you mean 'phone'?)")),
    ("log-misspelt-step", GOOD.replace("phone reminder", "phone remindr"),
     (10, 21, "warning", "log-step", "'remindr' is not a step of the policy "
                                     "(did you mean 'reminder'?)")),
    ("unknown-policy", GOOD.replace("---\n## ", "policy: gentel\n---\n## "),
     (9, 9, "error", "unknown-policy", "unknown policy 'gentel'")),
    ("unknown-fallback", GOOD.replace(
        "---\n## ", "plans:\n  - agreed: 2026-10-01\n    fallback: lawyer\n"
        "    instalments: [{due: 2026-11-01, amount: 100.00}]\n---\n## "),
     (10, 5, "error", "unknown-step", "the plan's fallback 'lawyer' is not a step")),
    ("tag", "---\ndebtor:\n  name: !!python/object:os.system x\n---\n",
     (3, 9, "error", "tag", "the YAML tag 'tag:yaml.org,2002:python/object:os.system' "
                            "is not allowed")),
    ("alias", "---\ndebtor:\n  name: &n x\n  contact: *n\n---\n",
     (3, 9, "error", "alias", "anchors and aliases")),
    ("boolean-as-text", "---\ndebtor:\n  name: true\n---\n",
     (3, 9, "error", "type", "expected text, found the boolean true")),
    ("not-utf8", b"---\ndebtor:\n  name: Caf\xe9\n---\n",
     (3, 12, "error", "encoding", "not UTF-8")),
    ("too-deep", "---\ndebtor: {name: x}\ntags: " + "[" * 150 + "\n---\n",
     (3, 107, "error", "yaml", "nested more than 100 levels")),
    ("payment-before-invoice", GOOD.replace(
        "---\n## ", "payments:\n  - date: 2026-06-01\n    amount: 10.00\n"
        "    invoice: \"2026/1\"\n---\n## "),
     (10, 5, "warning", "payment-before-invoice", "dated before invoice 2026/1 was issued")),
    ("overpayment", GOOD.replace(
        "---\n## ", "payments:\n  - {date: 2026-08-01, amount: 1300.00}\n---\n## "),
     (10, 5, "warning", "overpayment", "payments total 1300.00, more than the 1220.00 invoiced")),
    ("future-fact", GOOD.replace("## 2026-09-01", "## 2026-12-01"),
     (10, 1, "warning", "future", "log entry (phone) on 2026-12-01, after today (2026-11-20)")),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASE_DIAGNOSTICS,
                         ids=[c[0] for c in CASE_DIAGNOSTICS])
def test_case_diagnostic(tmp_path: Path, name: str, text: str | bytes,
                         expected: tuple[int, int, str, str, str]) -> None:
    (tmp_path / "cases").mkdir()
    data = text if isinstance(text, bytes) else text.encode()
    (tmp_path / "cases" / "rossi.md").write_bytes(data)
    found = diagnose(tmp_path)
    line, col, severity, code, fragment = expected
    matching = [d for d in found if d.code == code]
    assert matching, f"no {code} diagnostic in {[d.format() for d in found]}"
    first = matching[0]
    assert first.path == "cases/rossi.md"
    assert (first.line, first.col, str(first.severity)) == (line, col, severity), first.format()
    assert fragment in first.message


def test_good_case_is_clean(tmp_path: Path) -> None:
    write_casebook(tmp_path, {"rossi": GOOD})
    assert diagnose(tmp_path) == []


def test_every_problem_of_a_file_in_one_run(tmp_path: Path) -> None:
    text = GOOD.replace("date: 2026-07-01", "date: 2026-13-01").replace(
        "amount: 1220.00", "amount: 12.345").replace("phone reminder", "fone reminder")
    write_casebook(tmp_path, {"rossi": text})
    codes = [d.code for d in diagnose(tmp_path)]
    assert codes == ["date", "amount", "log-channel"]


def test_duplicate_invoice_number_reports_both_places(tmp_path: Path) -> None:
    write_casebook(tmp_path, {"a/rossi": GOOD, "bianchi": GOOD.replace("Rossi", "Bianchi")})
    found = [d for d in diagnose(tmp_path) if d.code == "duplicate-invoice"]
    assert [(d.path, d.line, d.col) for d in found] == [
        ("cases/a/rossi.md", 5, 5), ("cases/bianchi.md", 5, 5)]
    assert "also at cases/bianchi.md:5" in found[0].message
    assert "also at cases/a/rossi.md:5" in found[1].message


def test_heading_in_fenced_code_is_text(tmp_path: Path) -> None:
    text = GOOD + "\n```\n## 2026-02-31 not a heading\n```\n"
    write_casebook(tmp_path, {"rossi": text})
    assert diagnose(tmp_path) == []


def test_ordinary_section_is_not_an_entry(tmp_path: Path) -> None:
    write_casebook(tmp_path, {"rossi": GOOD + "\n## Background\nLong-time customer.\n"})
    assert diagnose(tmp_path) == []


def test_bad_case_id(tmp_path: Path) -> None:
    write_casebook(tmp_path, {"Rossi Srl": GOOD})
    (found,) = diagnose(tmp_path)
    assert (found.path, found.line, found.col, found.code) == ("cases/Rossi Srl.md", 1, 1,
                                                               "case-id")


def test_file_too_large(tmp_path: Path) -> None:
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "big.md").write_text(GOOD + "x" * (1 << 20))
    (found,) = diagnose(tmp_path)
    assert found.code == "too-large" and "at most 1,048,576 bytes" in found.message


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["---", "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, "
              f"*a{i-1}, *a{i-1}, *a{i-1}]" for i in range(1, 10)]
    lines += ["debtor: {name: x}", "tags: *a9", "---", ""]
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "bomb.md").write_text("\n".join(lines))
    codes = {d.code for d in diagnose(tmp_path)}
    assert "unknown-key" in codes  # a0 … a9 are not keys of a case
    assert "alias" in codes


# -- casebook.yml ------------------------------------------------------------

CONFIG_DIAGNOSTICS = [
    ("unknown-key", "creditor:\n  nmae: Esempio\n",
     (2, 3, "unknown-key", "unknown key 'nmae' in creditor (did you mean 'name'?)")),
    ("bad-locale", "locale: fr\n", (1, 9, "value", "locale must be one of it, en")),
    ("duplicate-step", "policy:\n  steps:\n    - {id: a, after: 1, channel: phone}\n"
     "    - {id: a, after: 2, channel: email}\n",
     (3, 5, "ladder", "the ladder names 'a' twice")),
    ("after-goes-down", "policy:\n  steps:\n    - {id: a, after: 10, channel: phone}\n"
     "    - {id: b, after: 2, channel: email}\n",
     (3, 5, "ladder", "its 'after' (2) is lower than 10")),
    ("plan-fallback", "policy:\n  plan_fallback: lawyer\n",
     (2, 18, "unknown-step", "plan_fallback names 'lawyer', which is not a step")),
    ("direct-contact", "policies:\n  soft:\n    direct_contact_before: diffda\n",
     (3, 28, "unknown-step", "(did you mean 'diffida'?)")),
    ("syntax", "policy: [\n", (2, 1, "yaml", "YAML syntax")),
    ("rate", "interest:\n  commercial_rates:\n    - {from: 2026-07-01, rate: ten}\n",
     (3, 32, "type", "'ten' is not a rate")),
]


@pytest.mark.parametrize(("name", "text", "expected"), CONFIG_DIAGNOSTICS,
                         ids=[c[0] for c in CONFIG_DIAGNOSTICS])
def test_config_diagnostic(tmp_path: Path, name: str, text: str,
                           expected: tuple[int, int, str, str]) -> None:
    write_casebook(tmp_path, {}, config=text)
    found = [d for d in diagnose(tmp_path) if d.path == "casebook.yml"]
    line, col, code, fragment = expected
    assert found, "no diagnostic"
    first = found[0]
    assert (first.line, first.col, first.code) == (line, col, code), first.format()
    assert fragment in first.message


def test_named_policy_and_aliases(tmp_path: Path) -> None:
    config = "policies:\n  gentle: {min_gap: 14}\n"
    text = GOOD.replace("---\n## ", "policy: gentle\n---\n## ").replace(
        "phone reminder", "telefono sollecito")
    write_casebook(tmp_path, {"rossi": text}, config=config)
    assert diagnose(tmp_path) == []
