"""Reading a level-2 heading that is not a log entry as a person would, to suggest the log
heading to write instead.

`## Telefonata del 19 novembre` names a channel and a day, so it reads like a contact that no rule
will ever count. Owns the words that name a channel (the channels, their aliases and the everyday
words for them, Italian and English) and the loose forms of a date (`19 novembre`, `Nov 2`,
`30/10`, `12.11.2026`, `2026-10-15`). It only reads text: it never reports, and guesses no day
that is not written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from casebook.model import CHANNEL_ALIASES, CHANNELS

# "note" is left out: a note is not a contact, and "## Note" is an everyday Italian heading.
_EVERYDAY_WORDS = {
    "telefonata": "phone", "telefonato": "phone", "chiamata": "phone", "chiamato": "phone",
    "call": "phone", "called": "phone", "e-mail": "email", "riunione": "meeting",
    "whatsapp": "chat",
}
CONTACT_WORDS: dict[str, str] = {
    **{c: c for c in CHANNELS if c != "note"},
    **{a: c for a, c in CHANNEL_ALIASES.items() if c != "note"},
    **_EVERYDAY_WORDS,
}

_MONTH_NAMES = (
    ("gennaio", "january", "gen", "jan"), ("febbraio", "february", "feb"),
    ("marzo", "march", "mar"), ("aprile", "april", "apr"), ("maggio", "may", "mag"),
    ("giugno", "june", "giu", "jun"), ("luglio", "july", "lug", "jul"),
    ("agosto", "august", "ago", "aug"), ("settembre", "september", "sept", "set", "sep"),
    ("ottobre", "october", "ott", "oct"), ("novembre", "november", "nov"),
    ("dicembre", "december", "dic", "dec"),
)
MONTHS: dict[str, int] = {name: n for n, names in enumerate(_MONTH_NAMES, 1) for name in names}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_YEAR = r"(?P<year>\d{4})"
# Each form names its groups day, month (a number or a name) and year (optional).
_DATES = (
    re.compile(rf"(?<!\d){_YEAR}-(?P<month>\d{{1,2}})-(?P<day>\d{{1,2}})(?!\d)"),
    re.compile(r"(?<![\d/.\-])(?P<day>\d{1,2})(?P<sep>[/.\-])(?P<month>\d{1,2})(?P=sep)"
               r"(?P<year>\d{4}|\d{2})(?![\d/.\-])"),
    re.compile(r"(?<![\d/.\-])(?P<day>\d{1,2})/(?P<month>\d{2})(?![\d/])"),
    re.compile(rf"(?<!\d)(?P<day>\d{{1,2}})[°º]?\s+(?:di\s+)?(?P<month>{_MONTH})\b\.?"
               rf"(?:\s+{_YEAR}\b)?", re.IGNORECASE),
    re.compile(rf"\b(?P<month>{_MONTH})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b"
               rf"(?:,?\s+{_YEAR}\b)?", re.IGNORECASE),
)
_WORDS = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


@dataclass(frozen=True)
class Reading:
    """What a heading says of a contact: the channel, the day and month, the year if written,
    and the text that made it read so (for the column of the warning)."""

    channel: str | None
    month_day: tuple[int, int] | None
    year: int | None
    found: str


def words(text: str) -> list[str]:
    """The words of a heading, without numbers and punctuation."""
    return _WORDS.findall(text)


def read_heading(text: str) -> Reading | None:
    """How `text` reads as a contact, or None when it names neither a channel nor a day."""
    channel, channel_word = None, ""
    for word in words(text):
        channel = CONTACT_WORDS.get(word.lower())
        if channel is not None:
            channel_word = word
            break
    day = _loose_date(text)
    if channel is None and day is None:
        return None
    if day is None:
        return Reading(channel, None, None, channel_word)
    month_day, year, written = day
    return Reading(channel, month_day, year, channel_word or written)


def _loose_date(text: str) -> tuple[tuple[int, int], int | None, str] | None:
    for form in _DATES:
        for match in form.finditer(text):
            month_text, year_text = match["month"], match.groupdict().get("year")
            month = int(month_text) if month_text.isdigit() else MONTHS[month_text.lower()]
            day = int(match["day"])
            year = None if year_text is None else int(year_text)
            if year is not None and year < 100:  # 12.11.26
                year += 2000
            if _real(year or 2000, month, day):  # 2000: a leap year, so 29 February counts
                return (month, day), year, match.group(0)
    return None


def _real(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def suggested_heading(reading: Reading, title: str, step: str | None,
                      before: date | None, after: date | None) -> str:
    """The log heading to write: the day (its year from the text, else from the log entries
    around: `before` and `after`), the channel and step, and the old heading as the title.
    What cannot be read stays a placeholder: YYYY, MM-DD, CHANNEL."""
    day = "YYYY-MM-DD"
    if reading.month_day is not None:
        month, mday = reading.month_day
        year = reading.year or _year_between(month, mday, before, after)
        shown = str(year) if year is not None and _real(year, month, mday) else "YYYY"
        day = f"{shown}-{month:02d}-{mday:02d}"
    words = [day, reading.channel or "CHANNEL", *([step] if step else [])]
    return f"## {' '.join(words)} — {title}"


def _year_between(month: int, day: int, before: date | None, after: date | None) -> int | None:
    """The year that puts the day after the entry before it, or else before the one after."""
    if before is not None:
        return before.year + ((month, day) < (before.month, before.day))
    if after is not None:
        return after.year - ((month, day) > (after.month, after.day))
    return None
