"""The write commands: only the new text is inserted, the result validates, refusals touch nothing.

A corpus of differently styled case files (comments everywhere, block and flow lists, quoted
keys, empty and missing sections), each also with CRLF line ends and without a final newline,
gets every kind of edit; a line diff must show exactly the expected new lines and no other
change, and the file must read back as the old case plus the new fact.
"""

from __future__ import annotations

import difflib
import stat
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from casebook.cli.main import main
from casebook.model import Dispute, LogEntry, Payment, Promise
from casebook.read.casefile import read_case
from casebook.read.config import read_config
from casebook.write import edit, readback, values

TODAY = date(2026, 11, 20)
CONFIG = read_config(None).config

PAYMENT = Payment(date=TODAY, amount=Decimal("250.00"), invoice="2026/101",
                  method="bank transfer")
PROMISE = Promise(made=TODAY, by=date(2026, 12, 5))
DISPUTE = Dispute(opened=TODAY, reason="wrong quantity, 3 pieces")
ENTRY = LogEntry(date=TODAY, channel="phone", step="reminder", title="Maria",
                 note="Called.\n\nShe pays Friday.")
ITEMS: dict[str, Any] = {"payments": PAYMENT, "promises": PROMISE, "disputes": DISPUTE,
                         "log": ENTRY}
INSERT = {"payments": edit.insert_payment, "promises": edit.insert_promise,
          "disputes": edit.insert_dispute, "log": edit.insert_log}

BLOCK_PAYMENT = ['  - date: 2026-11-20', '    amount: 250.00', '    invoice: "2026/101"',
                 '    method: bank transfer']
BLOCK_PROMISE = ['  - made: 2026-11-20', '    by: 2026-12-05']
BLOCK_DISPUTE = ['  - opened: 2026-11-20', '    reason: "wrong quantity, 3 pieces"']
FLOW_PAYMENT = '{date: 2026-11-20, amount: 250.00, invoice: "2026/101", method: bank transfer}'
FLOW_PROMISE = '{made: 2026-11-20, by: 2026-12-05}'
FLOW_DISPUTE = '{opened: 2026-11-20, reason: "wrong quantity, 3 pieces"}'
LOG_LINES = ['## 2026-11-20 phone reminder — Maria', 'Called.', '', 'She pays Friday.']

SPEC = """\
---
# The facts that drive calculations; comments everywhere.
debtor:
  name: Rossi Costruzioni S.r.l.          # required
  kind: business
  address: |
    Via Roma 1
    24121 Bergamo BG
  phone: "+39 035 000000"
owner: luca                               # who follows the case
tags: [construction]

invoices:
  - number: "2026/101"                    # unique across the casebook
    date: 2026-07-01
    due: 2026-07-31
    amount: 1220.00
  - number: '2026/115'
    date: 2026-08-01
    due: 2026-08-31
    amount: 610.00

payments:
  - date: 2026-09-15
    amount: 500.00
    invoice: "2026/101"                   # optional
    method: bank transfer
  # a comment after the last payment

disputes:
  - invoice: "2026/115"
    opened: 2026-09-02
    reason: goods arrived damaged
    resolved: 2026-09-20                  # optional

promises:
  - made: 2026-10-05                      # when the debtor promised
    by: 2026-10-20
    amount: 720.00

hold: {until: 2026-10-01, reason: owner asked to wait}   # over now
---
Free notes about the debtor.

## 2026-09-01 phone — Maria Bianchi
Invoice 2026/115 never arrived.

## 2026-09-22 email written-reminder — first written reminder
Sent with the IBAN.
"""

FLOW_ITEMS = """\
---
debtor: {name: "Bianchi & Figli", kind: business}
invoices:
- {number: "2026/101", date: 2026-06-01, due: 2026-06-30, amount: 300}
- {number: A-2, date: 2026-07-01, due: 2026-07-31, amount: "450.50"}  # a string amount
payments:
- {date: 2026-08-01, amount: 100.00, invoice: "2026/101"}
# a comment at the end of the list
promises:
- {made: 2026-08-10, by: 2026-08-20}
disputes:
- {opened: 2026-08-05, invoice: A-2, reason: late, resolved: 2026-08-09}
---
## 2026-08-01 email — sent the statement
"""

FLOW_LISTS = """\
---
debtor:
  name: Verdi
invoices: [{number: "2026/101", date: 2026-06-01, due: 2026-06-30, amount: 900.00}]
payments: [{date: 2026-08-01, amount: 100.00}, {date: 2026-08-15, amount: 50.00}]  # so far
promises: [
  {made: 2026-08-10, by: 2026-08-20},
  {made: 2026-09-01, by: 2026-09-10, amount: 100.00},
]
disputes: [ {opened: 2026-08-05, reason: late, resolved: 2026-08-09} ]
---
"""

MISSING = """\
---
debtor:
    name: Neri            # four-space indentation
    kind: consumer

invoices:
    -   number: "2026/101"
        date: 2026-06-01
        due: 2026-06-30
        amount: 300.00
---
Notes only, no entries yet.
"""

EMPTY = """\
---
debtor:
  name: Gialli
invoices:
  - number: "2026/101"
    date: 2026-06-01
    due: 2026-06-30
    amount: 300.00
payments: []
promises:
disputes: ~   # none yet
---
## 2026-07-02 note — opened

"""

QUOTED_KEYS = """\
---
"debtor":
  "name": 'Blu S.p.A.'
'invoices':
  - "number": "2026/101"
    "date": 2026-06-01
    "due": 2026-06-30
    "amount": "900.00"
"payments":
  - "date": 2026-07-15
    "amount": "100.00"
"promises":
  - {"made": 2026-07-20, "by": 2026-07-30}
---
## 2026-07-15 note
Paid a part.
"""

# For each file and edit: (lines removed, lines added, the line just before the new ones).
EXPECTED: dict[str, dict[str, tuple[list[str], list[str], str]]] = {
    "spec": {
        "payments": ([], BLOCK_PAYMENT, "    method: bank transfer"),
        "promises": ([], BLOCK_PROMISE, "    amount: 720.00"),
        "disputes": ([], BLOCK_DISPUTE, "    resolved: 2026-09-20                  # optional"),
        "log": ([], ["", *LOG_LINES], "Sent with the IBAN."),
    },
    "flow-items": {
        "payments": ([], ["- " + FLOW_PAYMENT],
                     '- {date: 2026-08-01, amount: 100.00, invoice: "2026/101"}'),
        "promises": ([], ["- " + FLOW_PROMISE], "- {made: 2026-08-10, by: 2026-08-20}"),
        "disputes": ([], ["- " + FLOW_DISPUTE],
                     "- {opened: 2026-08-05, invoice: A-2, reason: late, resolved: 2026-08-09}"),
        "log": ([], ["", *LOG_LINES], "## 2026-08-01 email — sent the statement"),
    },
    "flow-lists": {
        "payments": (
            ["payments: [{date: 2026-08-01, amount: 100.00}, {date: 2026-08-15, amount: 50.00}]"
             "  # so far"],
            ["payments: [{date: 2026-08-01, amount: 100.00}, {date: 2026-08-15, amount: 50.00}"
             ", " + FLOW_PAYMENT + "]  # so far"],
            "invoices: [{number: \"2026/101\", date: 2026-06-01, due: 2026-06-30, "
            "amount: 900.00}]"),
        "promises": ([], ["  " + FLOW_PROMISE + ","],
                     "  {made: 2026-09-01, by: 2026-09-10, amount: 100.00},"),
        "disputes": (
            ["disputes: [ {opened: 2026-08-05, reason: late, resolved: 2026-08-09} ]"],
            ["disputes: [ {opened: 2026-08-05, reason: late, resolved: 2026-08-09}, "
             + FLOW_DISPUTE + " ]"],
            "]"),
        "log": ([], ["", *LOG_LINES], "---"),
    },
    "missing": {
        "payments": ([], ["", "payments:", '    -   date: 2026-11-20', '        amount: 250.00',
                          '        invoice: "2026/101"', '        method: bank transfer'],
                     "        amount: 300.00"),
        "promises": ([], ["", "promises:", "    -   made: 2026-11-20", "        by: 2026-12-05"],
                     "        amount: 300.00"),
        "disputes": ([], ["", "disputes:", "    -   opened: 2026-11-20",
                          '        reason: "wrong quantity, 3 pieces"'], "        amount: 300.00"),
        "log": ([], ["", *LOG_LINES], "Notes only, no entries yet."),
    },
    "empty": {
        "payments": (["payments: []"], ["payments:", *BLOCK_PAYMENT], "    amount: 300.00"),
        "promises": ([], BLOCK_PROMISE, "promises:"),
        "disputes": (["disputes: ~   # none yet"], ["disputes:    # none yet", *BLOCK_DISPUTE],
                     "promises:"),
        "log": ([], LOG_LINES, ""),
    },
    "quoted-keys": {
        "payments": ([], BLOCK_PAYMENT, '    "amount": "100.00"'),
        "promises": ([], ["  - " + FLOW_PROMISE], '  - {"made": 2026-07-20, "by": 2026-07-30}'),
        "disputes": ([], ["disputes:", *BLOCK_DISPUTE], '  - {"made": 2026-07-20, '
                                                         '"by": 2026-07-30}'),
        "log": ([], ["", *LOG_LINES], "Paid a part."),
    },
}
CORPUS = {"spec": SPEC, "flow-items": FLOW_ITEMS, "flow-lists": FLOW_LISTS, "missing": MISSING,
          "empty": EMPTY, "quoted-keys": QUOTED_KEYS}
NEWLINES = {
    "lf": lambda text: text,
    "crlf": lambda text: text.replace("\n", "\r\n"),
    "lf-no-final-newline": lambda text: text.rstrip("\n"),
    "crlf-no-final-newline": lambda text: text.rstrip("\n").replace("\n", "\r\n"),
}


def changes(before: str, after: str) -> tuple[list[str], list[str], str]:
    """(removed lines, added lines, the line before them); the change must be one block."""
    old, new = before.splitlines(), after.splitlines()
    blocks = [op for op in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
              if op[0] != "equal"]
    assert len(blocks) == 1, blocks
    _, i1, i2, j1, j2 = blocks[0]
    return old[i1:i2], new[j1:j2], old[i1 - 1] if i1 else ""


def parse(text: str) -> Any:
    return read_case("x", "cases/x.md", text.encode(), CONFIG)


def errors(parsed: Any) -> list[str]:
    return [d.format() for d in parsed.diagnostics if d.severity == "error"]


@pytest.mark.parametrize("newline", NEWLINES)
@pytest.mark.parametrize("section", ITEMS)
@pytest.mark.parametrize("name", CORPUS)
def test_an_edit_inserts_only_the_new_text(name: str, section: str, newline: str) -> None:
    before = NEWLINES[newline](CORPUS[name])
    parsed = parse(before)
    assert errors(parsed) == []
    after = INSERT[section](before, ITEMS[section])
    removed, added, anchor = EXPECTED[name][section]
    if newline.endswith("no-final-newline") and section == "log" and name == "empty":
        added = ["", *added]  # the trailing blank line is gone, so one is inserted
        anchor = "## 2026-07-02 note — opened"
    assert changes(before, after) == (removed, added, anchor)
    crlf = newline.startswith("crlf")
    assert after.count("\r\n") == (after.count("\n") if crlf else 0)
    assert after.endswith("\n") == before.endswith("\n")
    edited = parse(after)
    assert errors(edited) == []
    assert readback.verify(parsed, edited, section, ITEMS[section]) == []


SMALL = 'debtor: {{name: x}}\ninvoices: [{{number: "2026/101", date: 2026-06-01, \
due: 2026-06-30, amount: 900}}]\n{}hold: {{until: 2026-07-01}}\n'
PAID = "{date: 2026-11-20, amount: 250.00, invoice: \"2026/101\", method: bank transfer}"


@pytest.mark.parametrize("payments, expected", [
    ("payments: [\n  {date: 2026-08-01, amount: 10.00}\n]\n",
     f"payments: [\n  {{date: 2026-08-01, amount: 10.00}},\n  {PAID}\n]\n"),
    ("payments: [{date: 2026-08-01, amount: 10.00},\n]\n",
     f"payments: [{{date: 2026-08-01, amount: 10.00}}, {PAID},\n]\n"),
    ("payments:   # none yet\n  # really none\n",
     "payments:   # none yet\n" + "\n".join(BLOCK_PAYMENT) + "\n  # really none\n"),
    ("payments:\n- date: 2026-08-01\n  amount: 10.00\n\n",
     "payments:\n- date: 2026-08-01\n  amount: 10.00\n- date: 2026-11-20\n  amount: 250.00\n"
     '  invoice: "2026/101"\n  method: bank transfer\n\n'),
    ("payments:\n  -   {date: 2026-08-01, amount: 10.00}\n",
     f"payments:\n  -   {{date: 2026-08-01, amount: 10.00}}\n  -   {PAID}\n"),
    ("payments: []    # none\n",
     "payments:     # none\n" + "\n".join(BLOCK_PAYMENT) + "\n"),
])
def test_more_list_layouts(payments: str, expected: str) -> None:
    before = "---\n" + SMALL.format(payments) + "---\n"
    after = edit.insert_payment(before, PAYMENT)
    assert after == "---\n" + SMALL.format(expected) + "---\n"
    readback.verify(parse(before), parse(after), "payments", PAYMENT)


def test_a_byte_order_mark_stays() -> None:
    before = "\ufeff" + FLOW_ITEMS
    after = edit.insert_payment(before, PAYMENT)
    assert after.startswith("\ufeff---\n") and after.count("\ufeff") == 1
    assert changes(before, after)[1] == ["- " + FLOW_PAYMENT]
    readback.verify(parse(before), parse(after), "payments", PAYMENT)


def test_a_block_scalar_at_the_end_of_the_list_keeps_its_lines() -> None:
    before = SPEC.replace("    method: bank transfer\n",
                          "    reference: |\n      CRO 1\n      CRO 2\n\n")
    after = edit.insert_payment(before, PAYMENT)
    assert changes(before, after) == ([], BLOCK_PAYMENT, "      CRO 2")
    readback.verify(parse(before), parse(after), "payments", PAYMENT)


def test_non_ascii_text_before_the_place_keeps_columns_right() -> None:
    before = FLOW_LISTS.replace("reason: late", "reason: perché è così 😀")
    after = edit.insert_dispute(before, DISPUTE)
    assert "reason: perché è così 😀, resolved: 2026-08-09}, " + FLOW_DISPUTE + " ]" in after
    readback.verify(parse(before), parse(after), "disputes", DISPUTE)


def test_free_text_is_quoted_only_when_it_must_be() -> None:
    payment = Payment(date=TODAY, amount=Decimal(5), method="bonifico: SEPA",
                      reference="CRO 0123456789")
    after = edit.insert_payment(SPEC, payment)
    assert changes(SPEC, after)[1] == ['  - date: 2026-11-20', '    amount: 5.00',
                                       '    method: "bonifico: SEPA"',
                                       '    reference: CRO 0123456789']
    for word in ("true", "null", "# x", "a, b", "[x]", "x #y", "tab\there", "'q'", " pad"):
        item = Dispute(opened=TODAY, reason=word)
        edited = parse(edit.insert_dispute(SPEC, item))
        assert readback.verify(parse(SPEC), edited, "disputes", item) == []


# -- the safety net: what would not read back as written is refused -------------------------


@pytest.mark.parametrize("note", [
    "Called.\n## Something else",
    "Called.\n## 2026-11-01 email",
    "Title line\n---\nmore",
])
def test_a_message_that_would_change_the_log_structure_is_refused(note: str) -> None:
    entry = LogEntry(date=TODAY, channel="phone", note=note)
    with pytest.raises(values.Refused, match="would not read back"):
        readback.verify(parse(SPEC), parse(edit.insert_log(SPEC, entry)), "log", entry)


def test_a_file_ending_inside_a_code_block_is_refused() -> None:
    before = SPEC + "```\ncode, never closed\n"
    with pytest.raises(values.Refused, match="would not read back"):
        readback.verify(parse(before), parse(edit.insert_log(before, ENTRY)), "log", ENTRY)


def test_front_matter_that_does_not_read_back_as_old_plus_new_is_refused() -> None:
    other = Payment(date=TODAY, amount=Decimal("250.01"), invoice="2026/101")
    with pytest.raises(values.Refused, match="would not read back as written in 'payments'"):
        readback.verify(parse(SPEC), parse(edit.insert_payment(SPEC, other)), "payments", PAYMENT)
    moved = SPEC.replace("owner: luca", "owner: someone")
    with pytest.raises(values.Refused, match="would not read back"):
        readback.verify(parse(SPEC), parse(edit.insert_payment(moved, PAYMENT)), "payments",
                    PAYMENT)


def test_a_new_error_is_refused() -> None:
    payment = Payment(date=TODAY, amount=Decimal(1), invoice="nope")
    before = parse(SPEC)
    with pytest.raises(values.Refused, match=r"(?s)would not validate.*not an invoice of this"):
        readback.verify(before, parse(edit.insert_payment(SPEC, payment)), "payments", payment)


@pytest.mark.parametrize("text, message", [
    ("no front matter\n", "no front matter"),
    ("---\n{debtor: {name: x}}\n---\n", "block mapping"),
    ("---\ndebtor: {name: x}\npayments: {date: 2026-01-01}\n---\n", "must be a list"),
    ("---\ndebtor: {name: x}\npayments: []\npayments: []\n---\n", "twice"),
])
def test_front_matter_casebook_cannot_add_to_is_refused(text: str, message: str) -> None:
    with pytest.raises(values.Refused, match=message):
        edit.insert_payment(text, PAYMENT)


@pytest.mark.parametrize("text, message", [
    ("0", "more than zero"), ("-3", "more than zero"), ("1,50", "not an amount"),
    ("1.234", "not an amount"), ("1e3", "not an amount"), ("NaN", "not an amount"),
])
def test_bad_amounts_are_refused(text: str, message: str) -> None:
    with pytest.raises(values.Refused, match=message):
        values.parse_amount(text)


def test_amounts_are_exact() -> None:
    assert values.parse_amount(" 97.1 ") == Decimal("97.1")
    assert f"{values.parse_amount('1220')}" == "1220"
    assert edit.insert_promise(SPEC, Promise(made=TODAY, by=TODAY, amount=Decimal("97.1"))) \
        .count("    amount: 97.10\n") == 1


def test_messages_from_the_editor_lose_their_comment_lines() -> None:
    assert values.strip_comments("Called.\n# a comment\n\nMore.\n#\n") == "Called.\n\nMore."
    assert values.clean_note("\r\n  \r\nCalled.  \r\nMore.\r\n\r\n") == "Called.\nMore."


# -- the commands ------------------------------------------------------------------------


def run(root: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["-C", str(root), "--today", TODAY.isoformat(), *args],
                                env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def book(tmp_path: Path) -> Path:
    (tmp_path / "casebook.yml").write_text("locale: en\n")
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "rossi.md").write_bytes(SPEC.replace("\n", "\r\n").encode())
    return tmp_path


def rossi(book: Path) -> str:
    return (book / "cases" / "rossi.md").read_bytes().decode()


def test_log_appends_an_entry_with_the_canonical_words(book: Path) -> None:
    code, out, _ = run(book, "log", "rossi", "Telefono", "SOLLECITO", "-m", "Called.",
                       "-m", "She pays Friday.", "--title", "Maria")
    assert code == 0, out
    assert out == "logged 2026-11-20 phone reminder — Maria in cases/rossi.md\n"
    assert rossi(book) == SPEC.replace("\n", "\r\n") + "\r\n" + "\r\n".join(LOG_LINES) + "\r\n"


def test_pay_records_a_payment(book: Path) -> None:
    code, out, _ = run(book, "pay", "cases/rossi.md", "250", "--invoice", "2026/101",
                       "--method", "bank transfer", "--date", "2026-11-19")
    assert code == 0
    assert out == ("recorded a payment of 250.00 on 2026-11-19 to invoice 2026/101 "
                   "in cases/rossi.md\n")
    removed, added, _ = changes(SPEC, rossi(book))
    assert removed == [] and added[:2] == ["  - date: 2026-11-19", "    amount: 250.00"]


def test_promise_and_dispute_record_their_facts(book: Path) -> None:
    assert run(book, "promise", "rossi", "--by", "2026-12-05")[0] == 0
    assert run(book, "dispute", "rossi", "--invoice", "2026/115", "--reason", "late")[0] == 0
    text = rossi(book)
    assert "  - made: 2026-11-20\r\n    by: 2026-12-05\r\n" in text
    assert ('  - invoice: "2026/115"\r\n    opened: 2026-11-20\r\n    reason: late\r\n'
            in text)
    assert run(book, "validate")[0] == 0


def test_new_warnings_are_shown(book: Path) -> None:
    code, _, err = run(book, "pay", "rossi", "5000", "--overpayment")
    assert code == 0
    assert "cases/rossi.md:" in err and "more than the 1830.00 invoiced" in err


@pytest.mark.parametrize("args, message", [
    (["pay", "rossi", "12,50"], "'12,50' is not an amount"),
    (["pay", "rossi", "-5"], "must be more than zero"),
    (["pay", "rossi", "0.001"], "is not an amount"),
    (["pay", "rossi", "10", "--invoice", "2026/10"], "'2026/10' is not an invoice of this case"),
    (["pay", "rossi", "10", "--date", "2026-11-21"], "after today (2026-11-20)"),
    (["pay", "rossi", "10", "--date", "2026-02-30"], "not a real date"),
    (["pay", "rossi", "10", "--date", "yesterday"], "not a date in the form YYYY-MM-DD"),
    (["pay", "rossi", "10", "--method", "a\nb"], "one line"),
    (["log", "rossi", "fone", "-m", "x"], "unknown channel 'fone' (did you mean 'phone'?)"),
    (["log", "rossi", "phone", "remind", "-m", "x"], "unknown step 'remind'"),
    (["log", "rossi", "phone", "-m", "x", "--date", "2027-01-01"], "after today"),
    (["log", "rossi", "phone", "-m", "a\n## b"], "would not read back"),
    (["log", "rossi", "phone", "-m", "  "], "the message is empty"),
    (["promise", "rossi", "--by", "2026-11-01"], "before the day the promise was made"),
    (["promise", "rossi", "--by", "2026-12-01", "--amount", "0"], "more than zero"),
    (["dispute", "rossi", "--reason", " "], "must not be empty"),
    (["dispute", "rossi", "--reason", "x", "--invoice", "X"], "not an invoice"),
    (["log", "nobody", "phone", "-m", "x"], "no case 'nobody'"),
    (["pay", "../casebook", "1"], "no case '../casebook'"),
])
def test_refusals_say_why_and_leave_the_file_as_it_was(
    book: Path, args: list[str], message: str
) -> None:
    before = (book / "cases" / "rossi.md").read_bytes()
    code, out, err = run(book, *args)
    assert code == 1
    assert message in err, err
    assert out == ""
    assert (book / "cases" / "rossi.md").read_bytes() == before


def test_a_file_changed_while_writing_is_not_overwritten(
    book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = book / "cases" / "rossi.md"
    theirs = SPEC.replace("Free notes", "Someone else's edit").encode()
    real = edit.insert_payment

    def insert_while_someone_saves(text: str, payment: Payment) -> str:
        path.write_bytes(theirs)
        return real(text, payment)

    monkeypatch.setattr(edit, "insert_payment", insert_while_someone_saves)
    code, _, err = run(book, "pay", "rossi", "10")
    assert code == 1
    assert "cases/rossi.md changed on disk" in err and "nothing was written" in err
    assert path.read_bytes() == theirs


def test_a_file_with_an_unrelated_error_can_still_be_logged(book: Path) -> None:
    path = book / "cases" / "rossi.md"
    path.write_text(SPEC.replace("  kind: business", "  knd: business"))
    assert run(book, "log", "rossi", "note", "-m", "Checked.")[0] == 0
    assert path.read_text().endswith("Sent with the IBAN.\n\n## 2026-11-20 note\nChecked.\n")


def test_a_file_that_cannot_be_read_is_refused(book: Path) -> None:
    path = book / "cases" / "rossi.md"
    path.write_text("---\ndebtor: [\n---\n")
    code, _, err = run(book, "log", "rossi", "note", "-m", "x")
    assert code == 1 and "cannot be read; fix it first" in err
    assert path.read_text() == "---\ndebtor: [\n---\n"


def test_a_symlinked_case_stays_a_symlink(book: Path) -> None:
    elsewhere = book / "archive" / "rossi.md"  # inside the casebook, outside cases/
    elsewhere.parent.mkdir()
    elsewhere.write_text(SPEC.replace('"2026/', '"2025/'))
    link = book / "cases" / "linked.md"
    link.symlink_to(elsewhere)
    code, _, err = run(book, "pay", "linked", "10")
    assert code == 0, err
    assert link.is_symlink() and "    amount: 10.00\n" in elsewhere.read_text()


def test_a_link_to_a_file_outside_the_casebook_is_not_written(
        book: Path, tmp_path_factory: Any) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "rossi.md"
    elsewhere.write_text(SPEC)
    (book / "cases" / "linked.md").symlink_to(elsewhere)
    code, _, err = run(book, "pay", "linked", "10")
    assert code == 1 and "outside the casebook" in err
    assert elsewhere.read_text() == SPEC


# -- $EDITOR, as git commit does ---------------------------------------------------------


def fake_editor(tmp_path: Path, script: str) -> dict[str, str]:
    path = tmp_path / "editor.sh"
    # The fixed mtime makes the save visible even within the filesystem's clock tick.
    path.write_text(f"#!/bin/sh\n{script}\ntouch -d 2001-01-01 \"$1\"\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return {"EDITOR": str(path), "VISUAL": ""}


def test_without_a_message_the_editor_opens_and_comments_are_dropped(book: Path) -> None:
    env = fake_editor(book.parent, '{ printf "Called Maria.\\n# not this\\n\\nShe pays.\\n";'
                                   ' cat "$1"; } > "$1.new" && mv "$1.new" "$1"')
    code, _, err = run(book, "log", "rossi", "phone", env=env)
    assert code == 0, err
    assert rossi(book).endswith("\r\n\r\n## 2026-11-20 phone\r\nCalled Maria.\r\n\r\n"
                                "She pays.\r\n")


def test_the_template_names_the_entry(book: Path) -> None:
    seen = book.parent / "template.txt"
    env = fake_editor(book.parent, f'cp "$1" "{seen}"; echo "ok" >> "$1"')
    assert run(book, "log", "rossi", "pec", "diffida", env=env)[0] == 0
    template = seen.read_text()
    assert "#   ## 2026-11-20 pec formal-notice" in template
    assert all(line.startswith("#") for line in template.splitlines() if line)


@pytest.mark.parametrize("script", [
    ': > "$1"',  # emptied
    'printf "# only a comment\\n\\n" > "$1"',
    "true",  # saved as it was: only the template's comments
])
def test_an_empty_message_aborts(book: Path, script: str) -> None:
    before = (book / "cases" / "rossi.md").read_bytes()
    code, _, err = run(book, "log", "rossi", "phone", env=fake_editor(book.parent, script))
    assert code == 1 and "the message is empty" in err
    assert (book / "cases" / "rossi.md").read_bytes() == before


def test_commands_are_registered_on_main() -> None:
    assert {"log", "pay", "promise", "dispute"} <= set(main.commands)
