"""Properties of reading case files, for any input hypothesis can think of."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casebook.read.casefile import read_case
from casebook.read.config import read_config
from casebook.read.contactlog import _NEEDS_PARSER, _parsed_headings, _plain_headings

CONFIG = read_config(None).config

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999.99"), places=2)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31))
words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
                min_size=1, max_size=30).filter(lambda s: s.strip() == s and s)


@st.composite
def invoices(draw: st.DrawFn) -> list[tuple[str, date, date, Decimal]]:
    count = draw(st.integers(min_value=1, max_value=5))
    out = []
    for n in range(count):
        issued = draw(days)
        due = draw(st.dates(min_value=issued, max_value=date(2031, 12, 31)))
        out.append((f"INV-{n}", issued, due, draw(amounts)))
    return out


def yaml_string(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)


@given(invoices(), words, st.sampled_from(["plain", "quoted"]))
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_a_valid_case_loads_to_the_numbers_and_dates_written(
    items: list[tuple[str, date, date, Decimal]], name: str, style: str
) -> None:
    lines = ["---", "debtor:", f"  name: {yaml_string(name)}", "invoices:"]
    for number, issued, due, amount in items:
        written = str(amount) if style == "plain" else f'"{amount}"'
        lines += [f'  - number: "{number}"', f"    date: {issued}", f"    due: {due}",
                  f"    amount: {written}"]
    lines += ["---", ""]
    parsed = read_case("x", "cases/x.md", "\n".join(lines).encode(), CONFIG)
    assert parsed.diagnostics == ()
    assert parsed.case is not None
    assert parsed.case.debtor.name == name
    got = [(i.number, i.date, i.due, i.amount) for i in parsed.case.invoices]
    assert got == items
    assert all(str(i.amount) == str(a) for i, (_, _, _, a) in zip(parsed.case.invoices, items,
                                                                  strict=True))


@given(st.binary(max_size=2000))
@settings(max_examples=300)
def test_any_bytes_give_diagnostics_never_an_exception(data: bytes) -> None:
    parsed = read_case("x", "cases/x.md", data, CONFIG)
    assert parsed.case is not None or parsed.diagnostics


@given(st.text(max_size=400))
@settings(max_examples=300)
def test_any_text_after_front_matter_gives_diagnostics_never_an_exception(body: str) -> None:
    text = "---\ndebtor: {name: x}\n---\n" + body
    parsed = read_case("x", "cases/x.md", text.encode(), CONFIG)
    if "\x00" in body:
        assert parsed.case is None and parsed.diagnostics[0].code == "encoding"
    else:
        assert parsed.case is not None  # a bad log heading is a diagnostic, not a lost case


markdownish = st.lists(
    st.sampled_from(["## 2026-01-02 phone reminder — x", "##", "## Title ##", "### deeper",
                     "text", "", "- item", "  indented", "> quote", "##no space",
                     "## 2026-13-01 email", "#", "    ## code", "1. one", "*emph*",
                     "## a\r", "##\ttab"]),
    max_size=30,
).map("\n".join)


@given(markdownish)
@settings(max_examples=500)
def test_the_line_scan_finds_the_headings_markdown_it_finds(body: str) -> None:
    if _NEEDS_PARSER.search(body):
        return
    assert _plain_headings(body.split("\n")) == _parsed_headings(body)


plainish = st.lists(
    st.one_of(
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40),
        st.sampled_from(["", "Parlato con la sig.ra Bianchi: ok.", "1. uno", "- voce",
                         "a  ", "  b", "\u00a0x", "x\u00a0", "---", "===", "# t", "> q",
                         'disse "sì"', "50% €", "2026-10-01: pagato", "a\tb", "\u2028"]),
    ),
    max_size=8,
).map("\n".join)


@given(plainish)
@settings(max_examples=1000)
def test_the_plain_note_shortcut_renders_as_markdown_it_does(text: str) -> None:
    from casebook.site.markdown import _renderer, render_markdown

    if text.strip():
        assert render_markdown(text) == _renderer().render(text)


@given(st.text(alphabet="ab cà1.,;:!?'\"()/%€-\n\u00a0\u2028=#", max_size=120))
@settings(max_examples=2000)
def test_the_plain_note_shortcut_on_prose_like_text(text: str) -> None:
    from casebook.site.markdown import _PLAIN, _renderer, render_markdown

    if text.strip():
        assert render_markdown(text) == _renderer().render(text), _PLAIN.fullmatch(text)


@given(st.decimals(min_value=Decimal("-99999999.99"), max_value=Decimal("99999999.99"),
                   places=2), st.sampled_from(["it", "en"]))
@settings(max_examples=500)
def test_money_formatting_agrees_with_babel(amount: Decimal, locale: str) -> None:
    from casebook.engine.words import Formats

    formats = Formats(locale, "EUR")
    assert formats._money_layout is not None
    assert formats.money(amount) == formats._babel_money(amount)
    assert formats.number(amount) == formats._babel_number(amount)


@given(st.text(alphabet=st.sampled_from("aè€😀,;\\ x\u00e0"), max_size=400))
def test_ics_lines_fold_at_75_octets_without_splitting_a_character(text: str) -> None:
    from casebook.site.formats import _fold

    line = "DESCRIPTION:" + text
    parts = _fold(line).split("\r\n ")
    assert all(len(part.encode("utf-8")) <= (75 if k == 0 else 74)
               for k, part in enumerate(parts))
    assert "".join(parts) == line
