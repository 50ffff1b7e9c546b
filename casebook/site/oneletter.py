"""One letter of one case, ready to print or send: what `casebook letter` shows and writes, and
what `casebook send` puts in a message.

Owns choosing the letter a word names (or the next action's), refusing one that does not fit
the case as it stands, and rendering it once as a page, as plain text and, on demand, as a PDF.
A failing template is told in one line naming its file and line (`template_errors`). Never
prints, never reads the clock: the day comes from the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from casebook.errors import CasebookError
from casebook.history.commits import histories
from casebook.history.commits import Commit
from casebook.load.cases import checked_case
from casebook.model import Case, Config
from casebook.site.letter_names import chosen_letter
from casebook.site.letters import require_fit
from casebook.site.pages import LetterPages, Renderer
from casebook.site.pdf import letter_pdf
from casebook.site.template_errors import is_template_error, template_message
from casebook.site.views import CaseView


@dataclass(frozen=True)
class ReadyLetter:
    """A letter of a case, rendered."""

    case: Case
    config: Config
    view: CaseView
    name: str  # the letter's name: formal-notice, reminder, dossier, …
    html: str  # the printable page (which carries the plain text too, on screen only)
    text: str  # the plain-text version, its .txt template
    subject: str  # the subject line, without "Oggetto:" or "Subject:"
    channel: str | None  # how it goes: pec, registered-letter, email, … (`letters.Letter`)


def ready_letter(root: Path, case_id: str, step: str | None, today: date) -> ReadyLetter:
    """The letter `step` names (a ladder step, its alias, or a letter's name), by default the
    next action's, of the case `case_id` on `today`. Raises UnknownCase, or CasebookError when
    the case or casebook.yml has errors, the word names no letter, the letter does not fit the
    case as it stands, or a template fails."""
    config, case = checked_case(root, case_id, today)
    history = {case.path: histories(root).get(case.path, ())}
    return letter_of(root, case, config, today, step, history)


def letter_of(root: Path, case: Case, config: Config, today: date, step: str | None,
              history: dict[str, tuple[Commit, ...]] | None = None) -> ReadyLetter:
    """`ready_letter` for a case already read (the dossier's zip renders each letter sent from
    the case as it stood that day)."""
    renderer = Renderer(root, config, today, history or {})
    view = renderer.view(case, letters=())
    policy = config.policy_for(case)
    name = chosen_letter(step, view.action, view.letter, policy, root, config.locale)
    require_fit(view, name, policy)  # a letter that does not fit the case as it stands
    pages = _rendered(renderer, view, name, root)
    return ReadyLetter(case=case, config=config, view=view, name=name, html=pages.html,
                       text=pages.text, subject=renderer.subject(pages.html, name),
                       channel=pages.letter.channel)


def pdf_of(letter: ReadyLetter, today: date) -> bytes:
    """The letter as an A4 PDF: its subject for title, the creditor for author, dated `today`.
    Raises PdfUnavailable when WeasyPrint cannot be loaded."""
    return letter_pdf(letter.html, today, title=letter.subject,
                      author=letter.config.creditor.name)


def _rendered(renderer: Renderer, view: CaseView, name: str, root: Path) -> LetterPages:
    try:
        return renderer.letter_pages(view, name)
    except Exception as exc:
        if not is_template_error(exc):
            raise
        raise CasebookError(template_message(exc, root)) from None
