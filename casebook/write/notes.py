"""A line added to the note of one log entry: how `casebook receipts` records a PEC receipt.

Text in, text out, like `edit`: the line goes right after the note's last non-blank line, every
other character of the file as it was (fenced code, the newline style, a BOM, a missing final
newline), and `verify_appended` accepts the result only when it reads as the old case whose
notes gained exactly those lines. It never touches a file.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence

from casebook.diagnostics import Diagnostic
from casebook.read.casefile import Parsed
from casebook.write.edit import newline_of
from casebook.write.readback import verify_case
from casebook.write.values import BOM, Refused


def _without_bom(text: str) -> tuple[str, str]:
    return (text[1:], BOM) if text.startswith(BOM) else (text, "")


_LEVEL2 = re.compile(r" {0,3}##(?:[ \t]|\r?$)")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


def append_to_entry(text: str, heading_line: int, line: str) -> str:
    """The text with `line` added to the note of the log entry whose `## ` heading stands on
    line `heading_line` (1-based): right after the note's last non-blank line, before the
    blank lines and the next level-2 heading, in the file's newline style."""
    body, bom = _without_bom(text)
    if "\n" in line or "\r" in line or not line.strip():
        raise Refused("the line to add must be one line of text")
    lines = body.split("\n")
    index = heading_line - 1
    if not 0 <= index < len(lines) or not _LEVEL2.match(lines[index]):
        raise Refused(f"line {heading_line} is not the heading of a log entry")
    last = _note_end(lines, index)
    if last + 1 < len(lines):  # a newline ends that line: the new one goes after it
        at = sum(len(row) + 1 for row in lines[:last + 1])
        return bom + body[:at] + line + newline_of(body) + body[at:]
    return bom + body + newline_of(body) + line  # the file ends without a newline there


def _note_end(lines: list[str], heading: int) -> int:
    """The last non-blank line of the note under the heading (the heading itself when the
    note is empty): the note runs to the next level-2 heading outside fenced code."""
    last, fence = heading, ""
    for number in range(heading + 1, len(lines)):
        text = lines[number]
        if fence:
            if text.strip().startswith(fence) and not text.strip().strip(fence[0]):
                fence = ""
        elif _LEVEL2.match(text):
            break
        elif (opened := _FENCE.match(text)) is not None:
            fence = opened.group(1)
        if text.strip():
            last = number
    return last


def verify_appended(before: Parsed, after: Parsed,
                    added: Mapping[int, Sequence[str]]) -> list[Diagnostic]:
    """Accept the edited file only when it reads as the old case whose log entries (by their
    index in the log) each gained exactly their `added` lines at the end of the note, and
    nothing else changed; the new warnings are returned. A trailing space or tab the old last
    line of a note had (the note never shows it) is allowed to show once a line follows."""
    old = before.case
    assert old is not None
    log = list(old.log)
    grown = after.case.log if after.case is not None else ()
    for index, lines in added.items():
        note = log[index].note.replace("\r\n", "\n")
        wanted = note + "\n" + "\n".join(lines) if note else "\n".join(lines)
        found = grown[index].note.replace("\r\n", "\n") if index < len(grown) else ""
        gap = found[len(note):len(found) - len(wanted) + len(note)]
        if (len(found) >= len(wanted) and found.startswith(note)
                and found.endswith(wanted[len(note):]) and not gap.strip(" \t")):
            wanted = found
        log[index] = dataclasses.replace(log[index], note=wanted)
    return verify_case(before, after, dataclasses.replace(old, log=tuple(log)),
                       "the note would not read back as the old one plus the new lines (the "
                       "note holds something the log reads as structure, or the file ends "
                       "inside a code block); add the lines by hand")
