"""Templates: the Jinja2 environment, its filters and the labels of the interface.

The shipped templates live in the package (`casebook/templates/`); a template of the same name
in the casebook's own `templates/` folder overrides it. Autoescape is always on: every string
from a case file is escaped unless it went through `markdown.render_markdown`. Money and dates
are formatted by Babel in the casebook's locale. Nothing here reads the clock.
"""

from __future__ import annotations

import re
import textwrap
from bisect import bisect_right
from collections.abc import Callable
from datetime import date
from itertools import accumulate
from operator import methodcaller
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from casebook.engine.words import Formats, Labels, Memo, labels
from casebook.read.discover import template_dirs
from casebook.site.sandbox import ContainedLoader, Sandbox, bytecode_cache, own_templates


def iban(code: str) -> str:
    """An IBAN in groups of four: "IT60 X054 2811 1010 0000 0123 456"."""
    code = str(code).replace(" ", "").upper()
    return " ".join([code[i:i + 4] for i in range(0, len(code), 4)])


def _nonblank_lines(text: str | None) -> tuple[str, ...]:
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


# -- wrapping plain text ---------------------------------------------------------------------

_split_simple = textwrap.TextWrapper.wordsep_simple_re.split
_split_hyphens = textwrap.TextWrapper.wordsep_re.split


def _wrap_line(line: str, width: int, break_on_hyphens: bool) -> list[str]:
    """`textwrap.wrap(line, width, expand_tabs=False, replace_whitespace=False,
    break_long_words=False, break_on_hyphens=…)`, line for line: the same chunks and the same
    greedy filling, with a line's end found by bisection rather than chunk by chunk."""
    if not line:
        return []
    if len(line) <= width and not line[-1].isspace():
        return [line]  # fits whole; its last chunk is no whitespace, which wrap would drop
    if (not break_on_hyphens and line.isprintable() and "  " not in line
            and line[0] != " " and line[-1] != " "):
        # Words between single spaces: isprintable() rules out every other whitespace.
        return _wrap_words(line.split(" "), width)
    chunks = list(filter(None, (_split_hyphens if break_on_hyphens else _split_simple)(line)))
    ends = list(accumulate(map(len, chunks), initial=0))  # ends[i]: length of chunks[:i]
    count = len(chunks)
    lines: list[str] = []
    start = 0
    while start < count:
        if lines and not chunks[start].strip():
            start += 1  # whitespace opening a line after the first is dropped
            if start == count:
                break
        stop = bisect_right(ends, ends[start] + width, start) - 1  # chunks[start:stop] fit
        if stop == start and stop < count:
            stop += 1  # a chunk longer than the line, alone on its line
        end = stop - 1 if not chunks[stop - 1].strip() else stop  # no trailing whitespace
        if end > start:
            lines.append("".join(chunks[start:end]))
        start = stop
    return lines


def _wrap_words(words: list[str], width: int) -> list[str]:
    """`_wrap_line` for words separated by single spaces, as in a paragraph of a letter: a line
    takes the words whose length, with the spaces between them, fits the width; a longer word
    stands alone."""
    # ends[i]: the length of words[:i], each word with the space after it
    ends = list(accumulate(map((1).__add__, map(len, words)), initial=0))
    lines = []
    start, count = 0, len(words)
    while start < count:
        stop = bisect_right(ends, ends[start] + width + 1, start) - 1
        stop = max(stop, start + 1)
        lines.append(" ".join(words[start:stop]))
        start = stop
    return lines


def wrap(text: str, width: int = 76, break_on_hyphens: bool = True) -> str:
    """Jinja's `wordwrap(width, break_long_words=false, break_on_hyphens=…)`, byte for byte
    (a word longer than the line stays whole), without `textwrap`'s chunk-by-chunk loop."""
    if width < 1:  # textwrap's own error
        return "\n".join(textwrap.fill(line, width) for line in str(text).splitlines())
    return "\n".join(["\n".join(_wrap_line(line, width, break_on_hyphens))
                      for line in str(text).splitlines()])


def para(text: str) -> str:
    """A paragraph of a plain-text letter: its lines joined, wrapped at 76 columns without
    breaking words or hyphens, and ended by a newline. For `{% filter para %}`."""
    return wrap(str(text).strip().replace("\n", " "), 76, False) + "\n"


def bullet(text: str) -> str:
    """An item of a plain-text list: "- " and the text as one paragraph, the lines after the
    first indented by two spaces, and a newline. For `{% filter bullet %}`."""
    lines = wrap("- " + str(text).strip().replace("\n", " "), 76, False).split("\n")
    return "\n".join([lines[0]] + ["  " + line if line else line for line in lines[1:]]) + "\n"


def _date_tag(formats: Formats) -> Callable[[date], Markup]:
    """A day as a page shows it: `<time datetime="2026-11-20">20/11/2026</time>`, for
    `{{ d|date_tag }}`. A filter, not a macro: a case page shows dozens of days, and a
    macro call costs many times its output."""
    def tag(day: date) -> Markup:
        return Markup('<time datetime="{}">{}</time>').format(day.isoformat(),
                                                              formats.date_short(day))
    return Memo(tag).__getitem__


def environment(root: Path | None, locale: str, currency: str, *, text: bool = False
                ) -> jinja2.Environment:
    """The templates' environment: HTML-escaping, or for the plain-text letters (`text`)
    with each value made plain (`plain_value`) instead.

    Jinja's sandbox when the casebook has a `templates/` folder of its own, whose templates
    someone else may have written; without one, every template is casebook's own, and Jinja's
    plain environment renders them without the sandbox's inspection of each value."""
    folders = template_dirs(root)
    shipped = template_dirs(None)[0]
    loader = jinja2.ChoiceLoader([
        ContainedLoader(folders),
        # `shipped/NAME` always names the packaged template, so an override can extend it.
        jinja2.PrefixLoader({"shipped": ContainedLoader(shipped)}),
    ])
    kind = Sandbox if own_templates(folders) else jinja2.Environment
    env = kind(
        loader=loader,
        auto_reload=False,  # one environment serves one build
        autoescape=not text,
        finalize=plain_value if text else None,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.bytecode_cache = bytecode_cache(env)
    formats = Formats(locale, currency)
    texts = Labels(labels(locale))

    def label(value: str, prefix: str) -> str:
        """The label of a value, or the value itself when the labels have none (custom steps
        and channels): `entry.channel|label("channel.")`."""
        key = f"{prefix}{value}"
        text = texts.get(key)
        return value if text is None or text == key else text

    env.filters.update({
        "money": formats.money,
        "number": formats.number,
        "percent": formats.percent,
        "date_long": formats.date_long,
        "date_short": formats.date_short,
        "date_tag": _date_tag(formats),
        "date_words": formats.date_words,
        "iso": methodcaller("isoformat"),  # `d|iso` is `d.isoformat()`, without a call in Jinja
        "iban": iban,
        # the lines of an address, stripped, without the blank ones
        "nonblank_lines": Memo(_nonblank_lines).__getitem__,
        "label": label,
        "wrap": wrap,
        "para": para,
        "bullet": bullet,
    })
    # `T[key]` is a plain lookup, far cheaper in a template than calling a function;
    # `t(key)` stays for user templates written against it.
    env.globals.update({"T": texts, "t": texts.__getitem__, "locale": locale,
                        "currency": currency})
    return env


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain_value(value: Any) -> Any:
    """A value as a plain-text letter may show it: line ends made `\\n`, and every other
    control character (an ESC that would recolour a terminal, a CR that would overwrite a
    line) shown as U+FFFD. Text without such characters passes as it is."""
    if value.__class__ is not str or value.isprintable():
        return value
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("\ufffd", text)
