"""Hostile text in every string field reaches every output inert: a table, field × payload × output.

Each payload gets a casebook of its own, where it fills every string field of SPEC section 2
(and of casebook.yml's creditor), the notes, a log title and a log note. Each casebook is
rendered once (the site, the text letters, `show`, `next --json` and the three exports), and
each output is checked by its own rules: HTML holds no script, no event attribute and no
dangerous link, and shows the payload as text; CSV cells a spreadsheet would run are quoted;
ICS gains no property; JSON gives the payload back exactly. `policy` and `plans[].fallback`
must name a policy or a step, and an invoice's `source` a path inside the casebook, so hostile
text there is a validate error and is left out here.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import icalendar
import pytest
from click.testing import CliRunner

from casebook.cli.main import main
from casebook.site.build import build

DAY = date(2026, 11, 20)
PAYLOADS: dict[str, str] = {
    "script": "<script>alert('x')</script>",
    "attribute breakout": "\"'><img src=x onerror=alert(1)>",
    "event attribute": "' onmouseover='alert(1)' x='",
    "javascript link": "javascript:alert(1)",
    "mixed case scheme": "JaVaScRiPt:alert(1)",
    "entity encoded scheme": "&#106;avascript&#58;alert(1) java&#x09;script:alert(2)",
    "data link": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript link": "VBScript:MsgBox(1)",
    "iframe": "<iframe src=\"javascript:alert(1)\"></iframe>",
    "textarea breakout": "</textarea><script>alert(1)</script>",
    "cdata breakout": "]]><script>alert(1)</script><![CDATA[",
    "style breakout": "</style><script>alert(1)</script><style>",
    "svg onload": "<svg/onload=alert(1)><svg onload=\"alert(2)\">",
    "markdown link": "[click](javascript:alert(1)) [x](JAVASCRIPT:alert(2) \"t\")",
    "markdown image": "![x](https://evil.example/p.png) ![y](javascript:alert(1))",
    "markdown autolink": "<javascript:alert(1)> <https://evil.example> <vbscript:x>",
    "markdown reference": "[a][r] [r]: javascript:alert(1)",
    "bidi override": "Rossi \u202e00.001 EUR\u202c srl \u2067x\u2069",
    "formula =": "=HYPERLINK(\"https://evil.example\",\"x\")",
    "formula +": "+cmd|' /C calc'!A0",
    "formula -": "-2+3+cmd|' /C calc'!A0",
    "formula @": "@SUM(1+1)*cmd|' /C calc'!A0",
    "formula tab": "\t=1+2",
    "formula cr": "\r=1+2",
    "formula after spaces": "   =1+2",
    "formula after a quote": "\"=1+2",
    "formula after quote and space": "' =1+2",
    "ics injection": "x\r\nATTENDEE:mailto:evil@example.com\r\nX-EVIL:1",
    "ics separators": "a;b,c\\d:e\\n;VALUE=URI",
    "json breakers": "\"quote\" \\back\\ \u2028line\u2029 \\u0022 </script> \x85",
    "terminal escapes": "\x1b[2J\x1b]8;;https://evil.example\x07x\x1b]8;;\x07\x08\x7f\x9b",
}
CREDITOR = ("name", "address", "vat", "iban", "pec", "email", "phone", "signature")
DEBTOR = ("name", "vat", "cf", "sdi", "iban", "address", "pec", "email", "phone", "contact")
DANGEROUS_SCHEME = re.compile(r"(?:javascript|data|vbscript):", re.IGNORECASE)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # but tab and newline
LINK_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "srcset"}


def case_text(p: str) -> str:
    """An overdue case with a plan (its letters, a dispute, a promise, a hold that ended):
    `p` in every string field, the notes and the log."""
    q = json.dumps(p)
    debtor = "\n".join(f"  {key}: {q}" for key in DEBTOR)
    title = " ".join(p.split())  # a heading is one line
    return f"""---
debtor:
{debtor}
  kind: business
owner: {q}
tags: [{q}, plain]
invoices:
  - {{number: {q}, date: 2026-07-01, due: 2026-07-31, amount: 100.00, description: {q}}}
payments:
  - {{date: 2026-08-01, amount: 10.00, invoice: {q}, method: {q}, reference: {q}}}
credits:
  - {{number: {json.dumps(p + " NC")}, date: 2026-07-05, amount: 1.00, invoice: {q}}}
disputes:
  - {{invoice: {q}, opened: 2026-08-02, resolved: 2026-08-03, reason: {q}}}
promises:
  - {{made: 2026-08-04, by: 2026-08-10, amount: 5.00}}
plans:
  - agreed: 2026-09-01
    instalments: [{{due: 2026-09-15, amount: 10.00}}]
hold: {{until: 2026-08-05, reason: {q}}}
---
{p}

## 2026-09-01 phone reminder — {title}
{p}

## 2026-09-02 note {title}
{p}
"""


def closed_text(p: str) -> str:
    q = json.dumps(p)
    return f"""---
debtor: {{name: {q}}}
invoices: [{{number: {json.dumps(p + " 2")}, date: 2026-07-01, due: 2026-07-31, amount: 50}}]
hold: {{until: 2026-11-30, reason: {q}}}
closed: {{date: 2026-11-01, reason: {q}}}
court: {{filed: 2026-10-01, kind: {q}, number: {q}, court: {q}}}
---
"""


class Page(HTMLParser):
    """The elements, attributes and text of an HTML page."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def active_content(page: Page) -> Iterator[str]:
    """Whatever in a page could run or load: beyond the page's own script and style."""
    for tag, attrs in page.tags:
        values = dict(attrs)
        if tag == "script" and not (values.get("src") or "").endswith("assets/casebook.js"):
            yield f"<script {attrs}>"
        if tag in ("iframe", "object", "embed", "img", "form", "base", "frame", "textarea",
                   "math", "template", "meta", "link", "style") and not _shipped(tag, values):
            yield f"<{tag}>"
        if tag == "svg" and "aria-hidden" not in values and "role" not in values:
            yield "<svg> not the page's own chart"
        for key, value in attrs:
            if key.startswith("on"):
                yield f"<{tag} {key}>"
            squeezed = re.sub(r"[\x00-\x20]+", "", value or "")
            if key in LINK_ATTRIBUTES and DANGEROUS_SCHEME.match(squeezed):
                yield f"<{tag} {key}={value!r}>"
            if key == "style" and re.search(r"url\(|expression\(|@import", value or "", re.I):
                yield f"<{tag} style={value!r}>"


def _shipped(tag: str, values: dict[str, str | None]) -> bool:
    """The page's own head: meta without http-equiv, the stylesheet, the letters' style."""
    if tag == "meta":
        return "http-equiv" not in values
    if tag == "link":
        return values.get("rel") == "stylesheet" and \
            (values.get("href") or "").endswith("assets/casebook.css")
    return tag == "style" and not values


def words(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Outputs:
    """Everything one casebook renders to, as text."""

    root: Path
    html: dict[str, str] = field(default_factory=dict)  # site path → page
    letters: dict[str, str] = field(default_factory=dict)  # "case/letter" → text letter
    show: str = ""
    next_json: str = ""
    csv: str = ""
    ics: str = ""
    json: str = ""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outputs]:
    return {}


def outputs(rendered: dict[str, Outputs], tmp_path_factory: pytest.TempPathFactory,
            name: str) -> Outputs:
    """The casebook of one payload, rendered once for all the tests."""
    if name in rendered:
        return rendered[name]
    p = PAYLOADS[name]
    root = tmp_path_factory.mktemp("hostile")
    (root / "cases").mkdir()
    creditor = "\n".join(f"  {key}: {json.dumps(p)}" for key in CREDITOR)
    (root / "casebook.yml").write_text(f"locale: en\ncreditor:\n{creditor}\n", "utf-8")
    (root / "cases" / "hostile.md").write_text(case_text(p), "utf-8")
    (root / "cases" / "closed.md").write_text(closed_text(p), "utf-8")
    result = build(root, DAY)
    assert result.invalid == [] and result.cases == 2, [d.format() for d in result.diagnostics]
    site = root / "site"
    out = Outputs(root, {str(path.relative_to(site)): path.read_text("utf-8")
                         for path in sorted(site.rglob("*.html"))})
    run = CliRunner()
    base = ["-C", str(root), "--today", DAY.isoformat()]
    for page in out.html:
        if page.startswith("letters/"):
            case, letter = page.removeprefix("letters/").removesuffix(".html").split("/")
            text = run.invoke(main, [*base, "letter", case, letter, "--format", "text"])
            assert text.exit_code == 0, text.output
            out.letters[f"{case}/{letter}"] = text.stdout_bytes.decode("utf-8")
    for attribute, args in (("show", ["show", "hostile"]), ("next_json", ["next", "--json"]),
                            ("csv", ["export", "--format", "csv"]),
                            ("ics", ["export", "--format", "ics"]),
                            ("json", ["export", "--format", "json"])):
        done = run.invoke(main, [*base, *args])
        assert done.exit_code == 0, done.output
        setattr(out, attribute, done.stdout_bytes.decode("utf-8"))
    assert (site / "cases.csv").read_bytes() == out.csv.encode("utf-8")
    assert (site / "actions.ics").read_bytes() == out.ics.encode("utf-8")
    rendered[name] = out
    return out


@pytest.fixture(params=sorted(PAYLOADS))
def book(request: pytest.FixtureRequest, rendered: dict[str, Outputs],
         tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Outputs]:
    name: str = request.param
    return PAYLOADS[name], outputs(rendered, tmp_path_factory, name)


def test_html_pages_hold_the_text_and_nothing_active(book: tuple[str, Outputs]) -> None:
    payload, out = book
    # the plan is broken, so no confirmation of it: the plan B, the formal notice, instead
    assert {"index.html", "cases/hostile.html", "letters/hostile/statement.html",
            "letters/hostile/formal-notice.html"} <= set(out.html)
    for path, html in out.html.items():
        page = Page(html)
        assert list(active_content(page)) == [], path
        shown = words("".join(page.text))
        assert words(payload) in shown, f"{path} does not show the payload as text"


def test_text_letters_carry_the_text_as_written(book: tuple[str, Outputs]) -> None:
    payload, out = book
    assert len(out.letters) >= 2
    for name, text in out.letters.items():
        assert CONTROL.search(payload) or words(payload) in words(text), name


def test_text_letters_hold_no_control_characters(book: tuple[str, Outputs]) -> None:
    _, out = book
    for name, text in out.letters.items():
        assert not CONTROL.search(text), name


def terminal(text: str) -> str:
    """What one line of the terminal shows of a value: line breaks and tabs as spaces, other
    control characters as U+FFFD."""
    text = text.replace("\r\n", " ")
    return "".join((" " if c.isspace() else "\ufffd") if CONTROL.match(c) or c in "\t\n" else c
                   for c in text)


def test_show_prints_the_text_without_control_characters(book: tuple[str, Outputs]) -> None:
    payload, out = book
    assert words(terminal(payload)) in words(out.show)
    assert not CONTROL.search(out.show)


def test_next_json_gives_the_text_back_exactly(book: tuple[str, Outputs]) -> None:
    payload, out = book
    rows = json.loads(out.next_json)
    assert [r["debtor"] for r in rows] == [payload]
    assert len(out.next_json.splitlines()) == len(rows) + 2  # one object per line, any reader


def test_json_export_gives_every_field_back_exactly(book: tuple[str, Outputs]) -> None:
    payload, out = book
    site = json.loads((out.root / "site" / "casebook.json").read_text("utf-8"))
    for rows in (json.loads(out.json), site):
        hostile = next(r for r in rows if r["case"] == "hostile")
        assert hostile["debtor"] == payload and hostile["owner"] == payload
        assert [i["number"] for i in hostile["invoices"]] == [payload]


def test_csv_cells_never_start_a_formula(book: tuple[str, Outputs]) -> None:
    payload, out = book
    rows = list(csv.reader(io.StringIO(out.csv, newline="")))
    header = rows[0]
    for row in rows[1:]:
        assert len(row) == len(header)
        for cell in row:  # an apostrophe first makes the cell text
            assert cell.startswith("'") or not re.match(r"[\s\"]*[=+\-@]|[\t\r\n]", cell), cell
        values = dict(zip(header, row, strict=True))
        for column in ("debtor", "owner"):
            if values["case"] == "hostile" or column == "debtor":
                assert values[column] in (payload, "'" + payload), column


def test_ics_gains_no_property_and_keeps_the_text(book: tuple[str, Outputs]) -> None:
    payload, out = book
    calendar = icalendar.Calendar.from_ical(out.ics.encode("utf-8"))
    assert set(calendar) == {"VERSION", "PRODID", "CALSCALE", "METHOD", "X-WR-CALNAME"}
    events = [c for c in calendar.walk() if c.name == "VEVENT"]
    assert len(events) == 1 and [c.name for c in calendar.subcomponents] == ["VEVENT"]
    event = events[0]
    assert set(event) == {"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION",
                          "CATEGORIES", "TRANSP"}
    assert not event.subcomponents
    assert str(event["SUMMARY"]).split(": ", 1)[1] == _ics_text(payload)
    unfolded = out.ics.replace("\r\n ", "")
    assert all(re.match(r"[A-Z-]+[;:]", line) for line in unfolded.split("\r\n") if line)


def _ics_text(text: str) -> str:
    """What an ICS TEXT value reads back as: a line break is a newline, and a control
    character, which TEXT may not hold, is U+FFFD."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "\ufffd", text)


def test_every_field_reached_the_outputs() -> None:
    """The table is complete: every string field of the model carries the payload."""
    from dataclasses import fields

    from casebook import model

    covered = {
        # An invoice's source must be a path inside the casebook (a payload is a validate
        # error); test_import_fatturapa checks its link. part_of is made by the engine.
        "Debtor": set(DEBTOR) | {"kind"},
        "Invoice": {"number", "description", "source", "part_of"},
        "Credit": {"number", "invoice"}, "Court": {"kind", "number", "court"},
        "Payment": {"invoice", "method", "reference"}, "Dispute": {"invoice", "reason"},
        "Hold": {"reason"}, "Closed": {"reason"}, "Creditor": set(CREDITOR),
        "LogEntry": {"channel", "step", "title", "note"},
        "Case": {"id", "path", "owner", "tags", "notes", "policy"},
        "Plan": {"fallback"},
    }
    for cls, names in covered.items():
        strings = {f.name for f in fields(getattr(model, cls))
                   if "str" in str(f.type) and f.name != "pos"}
        assert strings <= names, (cls, strings - names)
    assert all(isinstance(v, str) for v in PAYLOADS.values())
