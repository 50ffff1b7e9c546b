"""Hostile text in every field of a case file comes out inert in every output."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import icalendar

from casebook.site.build import build

DAY = date(2026, 11, 20)
PAYLOADS = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "<iframe src='https://evil.example'></iframe>",
    "=HYPERLINK(\"https://evil.example\")",
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3",
    "';!--\"<XSS>=&{()}",
]
NOTE = """Note with [a link](javascript:alert(1)) and [another](JAVASCRIPT:alert(2)),
<b onclick="alert(3)">raw html</b>, <script>alert(4)</script>
![tracking pixel](https://evil.example/pixel.png) and <a href="javascript:alert(5)">x</a>

<iframe src="https://evil.example"></iframe>
"""


def hostile_case(payload: str) -> str:
    q = json.dumps(payload)
    return f"""---
debtor:
  name: {q}
  kind: business
  vat: {q}
  address: {q}
  pec: {q}
  email: {q}
  phone: {q}
  contact: {q}
owner: {q}
tags: [{q}]
invoices:
  - number: {json.dumps("N" + payload)}
    date: 2026-07-01
    due: 2026-07-31
    amount: 100.00
    description: {q}
payments:
  - {{date: 2026-08-01, amount: 10.00, method: {q}, reference: {q}}}
disputes:
  - {{opened: 2026-08-02, resolved: 2026-08-03, reason: {q}}}
plans:
  - agreed: 2026-09-01
    fallback: formal-notice
    instalments: [{{due: 2026-09-15, amount: 10.00}}]
hold: {{until: 2026-08-05, reason: {q}}}
---
{NOTE}
{payload}

## 2026-09-01 phone reminder — {payload}
{NOTE}
"""


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def dangerous(html: str) -> list[str]:
    parser = TagCollector()
    parser.feed(html)
    found = []
    for tag, attrs in parser.tags:
        if tag in ("iframe", "object", "embed", "img", "form", "base"):
            found.append(tag)
        if tag == "script" and not any(k == "src" for k, _ in attrs):
            continue  # the page's own inline script, checked below to hold no payload
        for key, value in attrs:
            if key.startswith("on"):
                found.append(f"{tag} {key}")
            if key in ("href", "src", "action") and value and \
                    value.strip().lower().startswith(("javascript:", "data:", "vbscript:")):
                found.append(f"{tag} {key}={value}")
            if key in ("href", "src") and value and value.startswith(("http:", "https:", "//")) \
                    and "evil.example" in value and tag != "a":
                found.append(f"{tag} loads {value}")
    return found


def test_hostile_text_is_inert_everywhere(tmp_path: Path) -> None:
    (tmp_path / "cases").mkdir()
    (tmp_path / "casebook.yml").write_text("creditor: {name: \"<script>alert('c')</script>\"}\n")
    for index, payload in enumerate(PAYLOADS):
        (tmp_path / "cases" / f"h{index}.md").write_text(hostile_case(payload))
    result = build(tmp_path, DAY)
    assert result.cases == len(PAYLOADS), result.diagnostics
    site = tmp_path / "site"
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > len(PAYLOADS) * 2
    for page in pages:
        html = page.read_text()
        assert dangerous(html) == [], page
        assert "<script>alert" not in html and "<iframe" not in html, page
    # text letters carry the text as text; CSV cells that a spreadsheet would run are quoted
    rows = list(csv.reader(io.StringIO((site / "cases.csv").read_text("utf-8"))))
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell
    calendar = icalendar.Calendar.from_ical((site / "actions.ics").read_bytes())
    events = [c for c in calendar.walk() if c.name == "VEVENT"]
    assert {str(e["SUMMARY"]).split(": ", 1)[1] for e in events} <= set(PAYLOADS)
    assert json.loads((site / "casebook.json").read_text())[0]["debtor"] in PAYLOADS


def test_links_in_notes_keep_only_safe_schemes() -> None:
    from casebook.site.markdown import render_markdown

    html = render_markdown("[web](https://example.it) [mail](mailto:a@example.it) "
                           "[tel](tel:+39035000) [bad](javascript:alert(1)) "
                           "[data](data:text/html,x) [file](file:///etc/passwd)")
    assert 'href="https://example.it"' in html
    assert 'href="mailto:a@example.it"' in html and 'href="tel:+39035000"' in html
    assert "javascript:" not in html.split("[bad]")[0] and 'href="javascript' not in html
    assert 'href="data:' not in html and 'href="file:' not in html
    assert 'rel="noopener noreferrer nofollow"' in html
