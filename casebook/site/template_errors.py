"""A failure in a template, told apart from a failure of casebook and said in one line.

Jinja gives the traceback entries that run template code the template's file name and line, so
an exception is a template's when one of its frames stands in a template, or when Jinja raised
it (a syntax error, a missing template). `build`, `letter` and the live preview all say it the
same way: `template error: templates/case.html:3: message`. Never prints, never raises.
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path

import jinja2

from casebook.read.discover import template_dirs


def template_frames(exc: BaseException) -> list[traceback.FrameSummary]:
    """The traceback entries that stand in templates."""
    return [f for f in traceback.extract_tb(exc.__traceback__)
            if not f.filename.endswith(".py") and not f.filename.startswith("<")]


def in_template(exc: BaseException) -> bool:
    """Whether `exc` was raised while a template ran (`{{ 1 / 0 }}`)."""
    return bool(template_frames(exc))


def is_template_error(exc: BaseException) -> bool:
    """Whether `exc` is a template's fault: Jinja's own error, or raised inside a template."""
    return isinstance(exc, jinja2.TemplateError) or in_template(exc)


def template_message(exc: BaseException, root: Path | None) -> str:
    """`template error: WHERE:LINE: message`, naming the casebook's own templates as
    `templates/…` and the shipped ones by their name, where the file and line are known."""
    frames = template_frames(exc)
    where = getattr(exc, "filename", None) or (frames[-1].filename if frames else "")
    line = getattr(exc, "lineno", None) or (frames[-1].lineno if frames else None)
    where = _shown(where, root)
    at = f"{where}:{line}: " if where and line else (f"{where}: " if where else "")
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    if isinstance(exc, jinja2.TemplateNotFound):
        message = f"no template {message}"
    elif not isinstance(exc, jinja2.TemplateError):
        message = f"{type(exc).__name__}: {message}"
    return f"template error: {at}{message}"


def _shown(where: str, root: Path | None) -> str:
    shipped = template_dirs(None)[0]
    for folder in template_dirs(root):
        if where.startswith(folder + os.sep):
            name = where[len(folder) + 1:]
            where = f"templates/{name}" if folder != shipped else name
    return where
