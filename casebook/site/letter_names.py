"""Which letter a word names: a ladder step (its id or an alias), a shipped letter, or a letter
template of the casebook, for `casebook letter CASE [STEP]`.

Owns the list of names a letter can be asked for by, and the refusal (with a did-you-mean hint)
of a word that names none. Reads only the names of the template folders; renders nothing.
"""

from __future__ import annotations

from pathlib import Path

from casebook.diagnostics import did_you_mean
from casebook.errors import CasebookError
from casebook.model import Policy
from casebook.read.discover import template_dirs
from casebook.site.letters import EXTRA_LETTERS


def letter_names(policy: Policy, root: Path, locale: str) -> list[str]:
    """Every letter that can be named: the ladder's, the other shipped ones, then the casebook's
    own letter templates."""
    names = [s.letter for s in policy.steps if s.letter] + list(EXTRA_LETTERS)
    for folder in template_dirs(root):
        letters = Path(folder) / "letters" / locale
        if letters.is_dir():
            names += sorted(p.stem for p in letters.glob("*.html")
                            if not p.name.startswith(("_", ".")))
    return list(dict.fromkeys(names))


def letter_named(word: str, policy: Policy, names: list[str]) -> str:
    """The letter of the step `word` names (its id or an alias), else the letter named so."""
    step_id = policy.resolve(word)
    name = policy.step(step_id).letter if step_id else word if word in names else None
    if name is None:
        hint = "" if step_id else did_you_mean(word, [*names, *policy.words()])
        raise CasebookError(f"no letter {word!r}{hint}; name one of: {', '.join(names)}")
    return str(name)


def chosen_letter(word: str | None, action: str, letter: str | None, policy: Policy,
                  root: Path, locale: str) -> str:
    """The letter `word` names, or without a word the next action's `letter`; an action
    without one is refused with the names to choose from."""
    names = letter_names(policy, root, locale)
    if word is not None:
        return letter_named(word, policy, names)
    if letter is None:
        raise CasebookError(f"the next action ({action}) has no letter; name one: "
                            f"{', '.join(names)}")
    return letter
