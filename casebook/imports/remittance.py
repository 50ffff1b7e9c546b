"""What a bank credit's words say: the invoices its remittance text names, and its payer's
name in the form names are compared in.

Invoice numbers are compared by their digit groups. The groups of an invoice number are its
runs of digits, leading zeros dropped; when there are two or more, the first group of four
digits from 1900 to 2099 is the year and the others, in order, are the serial:

    "2026/101" → serial (101), year 2026      "FV-2026-0042" → serial (42), year 2026
    "101"      → serial (101), no year        "A-12-3/2026"  → serial (12, 3), year 2026

A remittance text names an invoice when it holds the same serial with no year or the same year,
written in one of two ways. Either digit groups joined by "/", "-", "." or "_" with a year among
them ("101/2026", "2026-101", "n. 101/2026", "FV-2026-0042", "fattura 42/2026"), or digits after
an invoice word — fattura, fatture, fatt, fat, ft, fv, inv, invoice — with an optional "n.",
"nr.", "no.", "n°", "#" or ":" between ("FT 101", "FT. 101", "fatt. 101", "fattura n. 101",
"INV 101", "fv 2026 0042", "fatture 101, 102 e 103"); after a word, a year may follow the number
or precede it with only a space between. Case does not matter. Digits are whole runs: "1010" and
"2101" never name invoice 101, and a bare "101" with neither a year nor an invoice word names
nothing (it could be a quantity or part of an amount). A date such as "15/11/2026" reads as
serial (15, 11) of 2026, and a month "11/2026" as invoice 11 of 2026 (a known false friend).

Names are compared after folding case and accents, dropping punctuation and apostrophes, and
leaving out legal-form words (S.r.l., SRL, S.r.l.s., S.p.A., S.n.c., S.a.s., S.a.p.a., S.c.a.r.l.,
unipersonale, & C.), word order kept: "ROSSI COSTRUZIONI S.R.L." is "Rossi Costruzioni srl".

It never reads a file and knows nothing of cases or credits: text in, normal forms out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence

Key = tuple[str, ...]  # an invoice's serial: its digit groups without leading zeros
_YEAR = re.compile(r"(?:19|20)\d\d")
_DIGITS = re.compile(r"\d+")
_JOINED = re.compile(r"\d+(?:(?:\s*/\s*|[-._\\])\d+)*")
_INVOICE_WORD = re.compile(
    r"(?<![^\W\d_])(?:fatture|fattura|fatt|fat|ft|fv|invoice|inv)(?![^\W\d_])"
    r"[\s.:#°\-]*(?:(?:nr|no|num|numero|n)(?![^\W\d_])[\s.:#°]*)?(?=\d)")
_LIST_GAP = re.compile(r"\s*(?:,|\+|&|\be\b|\band\b)\s*")
_LEGAL_FORMS = frozenset({"srl", "srls", "spa", "sapa", "snc", "sas", "ss", "scarl", "scrl",
                          "unipersonale", "gmbh", "ltd", "llc", "inc", "sarl"})
_APOSTROPHES = str.maketrans("", "", "'’`´")
_WORD = re.compile(r"[^\W_]+")
_DOTTED = re.compile(r"(?<![^\W_])[^\W_](?:\.[^\W_])+\.?(?![^\W_])")  # s.r.l., S.p.A


def _groups(digits: Sequence[str]) -> tuple[Key, int | None]:
    groups = [g.lstrip("0") or "0" for g in digits]
    if len(digits) > 1:
        for at, raw in enumerate(digits):
            if len(raw) == 4 and _YEAR.fullmatch(raw):
                return tuple(groups[:at] + groups[at + 1:]), int(raw)
    return tuple(groups), None


def invoice_key(number: str) -> tuple[Key, int | None] | None:
    """The serial and year of an invoice number, or None when it has no digits."""
    digits = _DIGITS.findall(number)
    return _groups(digits) if digits else None


def mentions(text: str) -> set[tuple[Key, int | None]]:
    """Every (serial, year) the text names, as the module's docstring describes."""
    lower = text.lower()
    found: set[tuple[Key, int | None]] = set()
    for run in _JOINED.finditer(lower):
        serial, year = _groups(_DIGITS.findall(run.group()))
        if year is not None and serial:
            found.add((serial, year))
    for word in _INVOICE_WORD.finditer(lower):
        found.update(_after_word(lower, word.end()))
    return found


def _after_word(text: str, at: int) -> Iterator[tuple[Key, int | None]]:
    """The numbers after an invoice word: one, a year beside it after a space, or a list."""
    while (run := _JOINED.match(text, at)) is not None:
        digits = _DIGITS.findall(run.group())
        yield _groups(digits)
        spaced = re.compile(r"\s+(\d+)(?![\d,.]\d)").match(text, run.end())
        if spaced is not None and len(digits) == 1 and (
                _YEAR.fullmatch(digits[0]) or _YEAR.fullmatch(spaced.group(1))):
            yield _groups([*digits, spaced.group(1)])
        gap = _LIST_GAP.match(text, run.end())
        if gap is None or not gap.group().strip():
            return
        at = gap.end()


def normal_name(name: str) -> str:
    """The name as the name rule compares it (see the module's docstring)."""
    plain = name.casefold() if name.isascii() else "".join(
        c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).casefold()
    plain = plain.translate(_APOSTROPHES).replace("&", " e ")
    if "." in plain:
        plain = _DOTTED.sub(lambda m: m.group().replace(".", ""), plain)
    words = [w for w in _WORD.findall(plain) if w not in _LEGAL_FORMS]
    if words[-2:] == ["e", "c"]:  # "& C.": and partners
        words = words[:-2]
    return " ".join(words)
