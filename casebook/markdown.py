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
    original = md.renderer.rules.get("link_open")

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
    return _renderer().render(text)
