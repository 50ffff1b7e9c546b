"""A letter as an A4 PDF, through WeasyPrint (the `pdf` extra): what `letter --format pdf` and
`build --pdf` write and what a message sent attaches.

Owns turning a letter's HTML page into PDF bytes, and saying how to install WeasyPrint when it
cannot be loaded. The page's own print CSS (`letters/_letter.html`) lays the letter out: the
size, the margins, the running header from page 2 and "page n of m". The same HTML, title,
author and day give the same bytes: the PDF's dates are the day's, never the clock's, and
nothing outside the page is fetched (a letter is self-contained; a resource that a note names
is refused). Never reads the clock, a file or the network.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from casebook.errors import CasebookError

INSTALL = ("PDF letters need WeasyPrint: pip install 'casebook[pdf]' "
           "(WeasyPrint also needs Pango >= 1.44 from the system)")


class PdfUnavailable(CasebookError):
    """WeasyPrint is not installed, or cannot load the system libraries it needs."""

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(INSTALL + (f"; {detail}" if detail else ""))


def require_pdf() -> None:
    """Raise PdfUnavailable unless PDFs can be made: checked before a build writes anything."""
    _weasyprint()


def letter_pdf(html: str, today: date, *, title: str, author: str | None) -> bytes:
    """The letter `html` as a PDF with this title and author, created and modified on
    `today`; fonts embedded (the glyphs used)."""
    weasyprint = _weasyprint()
    fetcher = weasyprint.URLFetcher(allowed_protocols=("data",))
    # a page's own @font-face fonts would stay in a shared configuration, for the next letters
    fonts = None if "@font-face" in html else _fonts()
    document = weasyprint.HTML(string=html, url_fetcher=fetcher).render(font_config=fonts)
    metadata = document.metadata
    metadata.title = title
    metadata.authors = [author] if author else []
    metadata.created = metadata.modified = today.isoformat()
    data: bytes = document.write_pdf()
    return data


@functools.cache
def _fonts() -> Any:
    """The system's fonts, as WeasyPrint finds them, once per process: a configuration made
    for each letter costs time and is never given back (some 0.3 MB a letter, which a build
    of thousands of letters cannot afford). The bytes are the same either way."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def _weasyprint() -> Any:
    """The weasyprint module, loaded (untyped: mypy does not follow it)."""
    try:
        import weasyprint
    except ImportError:
        raise PdfUnavailable() from None
    except OSError as exc:  # installed, but Pango (or a library it needs) is missing
        raise PdfUnavailable(str(exc).splitlines()[0] if str(exc) else None) from None
    return weasyprint
