"""Case notes to HTML, safely: notes are untrusted text.

Raw HTML in a note is shown as text, never passed through; links are kept only for the
schemes a person means in a note (web, e-mail, phone) or relative paths, and open nothing
automatically; images are not rendered (they would fetch from the network). Nothing from a case
file can run in the page.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

SAFE_LINK = re.compile(r"(?:https?:|mailto:|tel:)|(?![a-z][a-z0-9+.\-]*:)", re.IGNORECASE)


def link_is_safe(url: str) -> bool:
    """Web, e-mail and phone links, and relative ones; never javascript:, data:, file: …"""
    cleaned = "".join(ch for ch in url.strip() if ch.isprintable() and not ch.isspace())
    return SAFE_LINK.match(cleaned) is not None


@lru_cache(maxsize=1)
def _renderer() -> MarkdownIt:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")
    md.validateLink = link_is_safe  # type: ignore[method-assign]
    original = md.renderer.rules.get("link_open")  # type: ignore[attr-defined]

    def link_open(self, tokens, idx, options, env):  # type: ignore[no-untyped-def]
        tokens[idx].attrSet("rel", "noopener noreferrer nofollow")
        if original is not None:
            return original(tokens, idx, options, env)
        return self.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    return md


def render_markdown(text: str) -> str:
    """Safe HTML for a note ("" for an empty one)."""
    if not text.strip():
        return ""
    if _PLAIN.fullmatch(text):
        return _plain_paragraphs(text)
    return str(_renderer().render(text))


# Most notes are plain sentences. Text with no Markdown syntax at all — no inline markup
# characters, no line that could open a block, no hard breaks — renders exactly as markdown-it
# renders it: paragraphs split at blank lines, only `"` to escape. A property test holds the two
# to the same output.
_PLAIN_LINE = r"(?![#>\-+*=~|]|\d{1,9}[.)]|\s)[^\\`*_\[\]<>&\x00-\x1f\x7f]*(?<!\s)"
_PLAIN = re.compile(rf"(?:{_PLAIN_LINE}\n|\n)*(?:{_PLAIN_LINE})?")


def _plain_paragraphs(text: str) -> str:
    paragraphs = [p for p in re.split(r"\n\n+", text.strip("\n")) if p]
    return "".join("<p>" + p.replace('"', "&quot;") + "</p>\n" for p in paragraphs)
