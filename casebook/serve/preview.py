"""Live preview: rebuild the site when the casebook's sources change, and serve it with live reload.

Owns the rebuild loop: the watcher (`serve.watch`) pokes the debouncer, each burst of changes is
one rebuild, and its outcome is published to the pages (`serve.http`) and handed to the CLI. A
failed rebuild leaves the last good site in place (`build` swaps folders whole) and shows its
errors in the pages. This module never prints and never reads the calendar: the CLI passes
`today` in and gets an `Outcome` per rebuild; `time.monotonic()` only times the rebuilds.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from casebook.diagnostics import Diagnostic, Severity, summary
from casebook.load.loader import load_config
from casebook.serve.http import LiveSite, PreviewServer, bind
from casebook.serve.http import inject as inject  # tests/test_reasons.py imports it from here
from casebook.serve.watch import QUIET, Burst, Debouncer, Watcher
from casebook.site.build import BuildFailed, BuildResult
from casebook.site.incremental import LiveBuild
from casebook.site.template_errors import is_template_error, template_message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """One rebuild, for the CLI's line."""

    build: int
    ms: float  # the build() call
    latency_ms: float | None  # from the first event of the burst to the site on disk
    paths: tuple[str, ...]  # what changed (empty for the first build)
    result: BuildResult | None  # None: the build failed
    errors: tuple[str, ...]  # the failed build's errors and its summary line

    @property
    def ok(self) -> bool:
        return self.result is not None


def failure_lines(diagnostics: Sequence[Diagnostic]) -> tuple[str, ...]:
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    files = len({d.path for d in diagnostics})
    return (*(d.format() for d in errors), summary(diagnostics, files))


def _exception_lines(exc: Exception, root: Path) -> tuple[str, ...]:
    """A broken template said as `casebook build` says it; an unreadable file or folder as a
    diagnostic would say it."""
    if is_template_error(exc):
        return (template_message(exc, root),)
    where = getattr(exc, "filename", None)
    line = getattr(exc, "lineno", None)
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    if isinstance(where, str):
        with contextlib.suppress(ValueError):
            where = Path(where).resolve().relative_to(root).as_posix()
        return (f"{where}:{line or 1}:1: error: {message}",)
    return (f"error: {type(exc).__name__}: {message}",)


# (root, today, out, the paths changed since the last call or None for a full build)
Builder = Callable[[Path, date, Path, "tuple[str, ...] | None"], BuildResult]


class Preview:
    """Rebuilds `root` into `out` after each burst of changes; optionally serves `out`."""

    def __init__(self, root: Path, today: Callable[[], date], *, out: Path | None = None,
                 quiet: float = QUIET, report: Callable[[Outcome], None] | None = None,
                 builder: Builder | None = None) -> None:
        self.root = root.resolve()
        self.out = (out or self.root / "site").resolve()
        self.today = today
        self.report = report
        # a full build first, then in place while only case files change
        self.builder: Builder = builder or LiveBuild()
        self.site = LiveSite()
        self.debouncer = Debouncer(quiet)
        self.watcher = Watcher(self.root, self.out, self.debouncer.poke)
        self.server: PreviewServer | None = None
        self._serving: threading.Thread | None = None

    def rebuild(self, burst: Burst | None = None) -> Outcome:
        started = time.monotonic()
        result: BuildResult | None = None
        errors: tuple[str, ...] = ()
        try:
            result = self.builder(self.root, self.today(), self.out,
                                  burst.paths if burst else None)
        except BuildFailed as failed:
            errors = failure_lines(failed.diagnostics)
        except Exception as exc:  # the preview must outlive a broken template
            log.debug("rebuild failed", exc_info=True)
            errors = _exception_lines(exc, self.root)
        done = time.monotonic()
        number = self.site.publish(errors, changed=result is not None and result.written,
                                   locale=self._locale(result))
        outcome = Outcome(
            build=number, ms=(done - started) * 1000,
            latency_ms=(done - burst.started) * 1000 if burst else None,
            paths=burst.paths if burst else (), result=result, errors=errors)
        if self.report is not None:
            self.report(outcome)
        return outcome

    def _locale(self, result: BuildResult | None) -> str | None:
        """The casebook's locale, for the banner of a failed build (`result` None); None keeps
        the last one known: a good build that does not carry it, a casebook.yml with errors."""
        if result is not None:
            return None if result.casebook is None else result.casebook.config.locale
        config, problems, _ = load_config(self.root)
        return None if any(d.severity is Severity.ERROR for d in problems) else config.locale

    def watch(self) -> None:
        self.watcher.start()

    def run(self) -> None:
        """Rebuild after each burst of changes until `stop()`."""
        while (burst := self.debouncer.wait()) is not None:
            self.watcher.refresh()
            self.rebuild(burst)

    def stop(self) -> None:
        """Make `run()` return (after the rebuild in progress, if any)."""
        self.debouncer.close()

    def bind(self, host: str = "127.0.0.1", port: int = 8000) -> PreviewServer:
        self.server = bind(host, port, self.site, self.out)
        return self.server

    def start_server(self) -> None:
        assert self.server is not None, "bind() first"
        self._serving = threading.Thread(target=self.server.serve_forever, kwargs={
            "poll_interval": 0.2}, name="casebook-serve", daemon=True)
        self._serving.start()

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = (str(part) for part in self.server.server_address[:2])
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"

    def close(self) -> None:
        """Stop everything this preview started: the loop, the observer, the server."""
        self.stop()
        self.watcher.stop()
        self.site.close()  # answers the waiting polls, so their threads end
        if self.server is not None:
            if self._serving is not None:
                self.server.shutdown()
                self._serving.join(timeout=5)
            self.server.server_close()
