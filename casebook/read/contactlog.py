"""The contact log: dated level-2 headings of a case file's Markdown body.

`## DATE CHANNEL [STEP] [— title]` starts an entry; the Markdown under it, up to the next
level-2 heading, is its note. Any other level-2 heading starts an ordinary section, kept with
the notes (warned about when it reads like a contact, `heading_hint`). Headings are found with
markdown-it-py's block parser, so a heading inside fenced code is text. Channel and step words
are resolved here, against the case's policy; nothing here renders the notes or judges them.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Callable
from datetime import date
from functools import lru_cache, partial
from typing import TYPE_CHECKING

from casebook.diagnostics import did_you_mean
from casebook.model import CHANNEL_ALIASES, CHANNELS, LogEntry, Policy, Pos
from casebook.read import heading_hint
from casebook.read.yamlread import iso_date, out_of_range

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

    from casebook.read.yamlread import Reader

_WORD = re.compile(r"\s*(\S+)")
_SEPARATOR = re.compile(r"\s*(?:—|–|-|:)?\s*")
_CHANNEL_WORDS = (*CHANNELS, *CHANNEL_ALIASES)
#: Steps a log entry may record besides the ladder's: the debtor's written acknowledgement of
#: the debt (riconoscimento, art. 2944 c.c.), which restarts prescription (SPEC 10).
OUTSIDE_THE_LADDER = {"acknowledgement": "acknowledgement", "riconoscimento": "acknowledgement"}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # Only the block rules that decide what is a heading; inline parsing is not needed here.
    md = MarkdownIt("zero").enable(
        ["heading", "lheading", "fence", "code", "blockquote", "html_block"]
    )
    md.disable("inline")
    return md


def resolve_channel(word: str) -> str | None:
    word = word.lower().rstrip(":")
    if word in CHANNELS:
        return word
    return CHANNEL_ALIASES.get(word)


def read_log(
    body: str, body_line: int, policy: Policy, reader: Reader
) -> tuple[str, tuple[LogEntry, ...]]:
    """The notes and the entries; problems go to `reader`.

    The notes are the text before the first entry, then each ordinary section (a level-2
    heading that does not start with a digit, and its text) that stands after it, in the order
    of the file: nothing of the body is dropped.
    """
    lines = body.split("\n")
    headings = _level2_headings(body, lines) if body.strip() else []
    around = _Around(headings)
    entries: list[LogEntry] = []
    first_entry = len(lines)
    sections: list[str] = []
    for index, (start, end, content) in enumerate(headings):
        next_start = headings[index + 1][0] if index + 1 < len(headings) else len(lines)
        where = _Where(reader, body_line + start + 1, lines[start].rstrip("\r"))
        if not content[:1].isdigit():
            _check_section(content, where, policy, around, start)
            if start > first_entry:
                sections.append(_strip_blank("\n".join(lines[start:next_start])))
            continue
        first_entry = min(first_entry, start)
        heading = _read_heading(content, where, policy,
                                partial(_hint, content, policy, around, start))
        if heading is not None:
            day, channel, step, title = heading
            note = _strip_blank("\n".join(lines[end:next_start]))
            entries.append(LogEntry(date=day, channel=channel, step=step, title=title,
                                    note=note, pos=Pos(where.line, 1)))
    notes = [_strip_blank("\n".join(lines[:first_entry])), *sections]
    return "\n\n".join(n for n in notes if n), tuple(entries)


def _level2_headings(body: str, lines: list[str]) -> list[tuple[int, int, str]]:
    """(first line, line after, text) of each top-level h2, with 0-based body lines."""
    if not _NEEDS_PARSER.search(body):
        return _plain_headings(lines)
    return _parsed_headings(body)


# Markdown whose h2 headings a line scan finds exactly as CommonMark does: no fenced code, no
# setext underline, no HTML block, and every `##` line flush left. Anything else is parsed.
_NEEDS_PARSER = re.compile(r"^(?: {0,3}(?:```|~~~|<|[-=]+[ \t]*$)| {1,3}##|\t)", re.MULTILINE)
_ATX2 = re.compile(r"##(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*\r?")


def _plain_headings(lines: list[str]) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    for number, line in enumerate(lines):
        if line.startswith("##"):
            match = _ATX2.fullmatch(line)
            if match is not None:
                found.append((number, number + 1, (match.group(1) or "").strip()))
    return found


def _parsed_headings(body: str) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    tokens = _parser().parse(body)
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h2" and token.level == 0:
            start, end = token.map or (0, 0)
            found.append((start, end, tokens[index + 1].content))
    return found


class _Where:
    """Positions of words in one heading line, for diagnostics."""

    def __init__(self, reader: Reader, line: int, raw: str) -> None:
        self.reader, self.line, self.raw = reader, line, raw

    def at(self, word: str) -> Pos:
        return Pos(self.line, self.raw.find(word) + 1 if word in self.raw else 1)

    def error(self, word: str, code: str, message: str) -> None:
        self.reader.error(self.at(word), code, message)

    def warning(self, word: str, code: str, message: str) -> None:
        self.reader.warning(self.at(word), code, message)


def _read_heading(
    content: str, where: _Where, policy: Policy, hint: Callable[[], str]
) -> tuple[date, str, str | None, str] | None:
    match = _WORD.match(content)
    assert match is not None  # the content starts with a digit
    day_word, cursor = match.group(1), match.end()
    day = iso_date(day_word)
    if day is None:
        where.error(day_word, "log-date", f"log heading date {day_word!r} is not a real date "
                    f"in the form YYYY-MM-DD{hint()}")
        return None
    problem = out_of_range(day)
    if problem is not None:
        where.error(day_word, "log-date", f"log heading date {problem}")
        return None
    match = _WORD.match(content, cursor)
    if match is None:
        where.error(day_word, "log-channel",
                    f"the log entry of {day_word} needs a channel after the date "
                    f"({', '.join(CHANNELS)})")
        return None
    channel = resolve_channel(match.group(1))
    if channel is None:
        word = match.group(1)
        where.error(word, "log-channel", f"unknown channel {word!r}"
                    f"{did_you_mean(word.rstrip(':'), _CHANNEL_WORDS)}; "
                    f"use one of {', '.join(CHANNELS)}")
        return None
    cursor = match.end()
    step = None
    match = _WORD.match(content, cursor)
    if match is not None:
        word = match.group(1).rstrip(":")
        step = policy.resolve(word) or OUTSIDE_THE_LADDER.get(word.lower())
        if step is not None:
            cursor = match.end()
        elif _looks_like_step(word, policy):
            where.warning(word, "log-step",
                          f"{word!r} is not a step of the policy"
                          f"{did_you_mean(word, policy.words())}; it is read as the title")
    title = content[_SEPARATOR.match(content, cursor).end():].strip()  # type: ignore[union-attr]
    return day, channel, step, title


# -- sections that read like a contact -------------------------------------------------


class _Around:
    """The dates of the log headings, found only when a day without a year needs one."""

    def __init__(self, headings: list[tuple[int, int, str]]) -> None:
        self.headings = headings
        self.starts: list[int] | None = None
        self.days: list[date] = []

    def dates(self, line: int) -> tuple[date | None, date | None]:
        """The dates of the nearest log headings before and after the body line `line`."""
        if self.starts is None:
            self.starts = []
            for start, _, content in self.headings:
                match = _WORD.match(content)
                day = iso_date(match.group(1)) if match else None
                if day is not None and out_of_range(day) is None:
                    self.starts.append(start)
                    self.days.append(day)
        at = bisect.bisect_left(self.starts, line)
        before = self.days[at - 1] if at > 0 else None
        at = bisect.bisect_right(self.starts, line)
        return before, self.days[at] if at < len(self.days) else None


def _check_section(content: str, where: _Where, policy: Policy, around: _Around,
                   line: int) -> None:
    """A warning when an ordinary section reads like a contact that no rule will count."""
    reading = heading_hint.read_heading(content)
    if reading is None:
        return
    shown = _short(content)
    where.warning(reading.found or content, "log-section",
                  f"the section '## {shown}' reads like a contact, but it is not a log entry "
                  "(a log heading starts with its date): it is kept with the notes and no rule "
                  f"counts it; if it is a contact, write it as: "
                  f"{_suggested(reading, content, policy, around, line)}")


def _hint(content: str, policy: Policy, around: _Around, line: int) -> str:
    """'; write it as: ## …' for a heading starting with a day in another form."""
    reading = heading_hint.read_heading(content)
    if reading is None or reading.month_day is None:
        return ""
    return f"; write it as: {_suggested(reading, content, policy, around, line)}"


def _suggested(reading: heading_hint.Reading, content: str, policy: Policy, around: _Around,
               line: int) -> str:
    step = next((s for w in heading_hint.words(content) if (s := policy.resolve(w))), None)
    return heading_hint.suggested_heading(reading, _short(content), step, *around.dates(line))


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


# -- steps ---------------------------------------------------------------------------------


def _looks_like_step(word: str, policy: Policy) -> bool:
    words = policy.words()
    # A word half again as long as every step word cannot reach difflib's 0.8 ratio; leaving it
    # out also keeps the cache below from holding megabyte-long "words" of a hostile file.
    if not words or len(word) > 2 * max(map(len, words)):
        return False
    return _close_to_any(word.lower(), words)


@lru_cache(maxsize=4096)
def _close_to_any(word: str, choices: tuple[str, ...]) -> bool:
    return bool(difflib.get_close_matches(word, choices, n=1, cutoff=0.8))


def _strip_blank(text: str) -> str:
    return text.strip("\n").rstrip()
