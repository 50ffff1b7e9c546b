"""Live preview: rebuild the site when the casebook's sources change, and serve it with live reload.

Owns the watcher (which file-system events can change the site), the debouncer (one save is a
burst of events: one rebuild), the rebuild loop and the HTTP handler that serves `site/` and
answers the pages' long polls. The reload script and the error overlay are injected into HTML
responses as they are served, never written to disk: `site/` stays what `casebook build` makes.
A failed rebuild leaves the last good site in place (`build` swaps folders whole) and shows its
errors in the pages. This module never prints: the CLI gets an `Outcome` per rebuild.
"""

from __future__ import annotations

import contextlib
import errno
import html
import io
import json
import logging
import os
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO
from urllib.parse import parse_qs, urlsplit

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import ObservedWatch

from casebook.diagnostics import Diagnostic, Severity, summary
from casebook.engine.reasons import message
from casebook.errors import CasebookError
from casebook.load.loader import load_config
from casebook.model import Config
from casebook.site.build import BuildFailed, BuildResult
from casebook.site.incremental import LiveBuild

log = logging.getLogger(__name__)

QUIET = 0.06  # seconds without an event that end a burst: one save, one rebuild
POLL_SECONDS = 30.0  # a long poll answers "no change" after this long
WAIT_PATH = "/__casebook/wait"
SOURCES = ("cases", "templates")  # watched recursively; the root itself only for casebook.yml
CONFIG = "casebook.yml"
DEFAULT_LOCALE: str = Config.locale  # until a build has read casebook.yml

# Reads are left out (inotify reports `opened` and `closed_no_write`): every rebuild reads the
# case files and would trigger itself. Folder `modified` events only echo their files' events
# (and would let a swap file in cases/ trigger a rebuild).
EVENT_FILTER: list[type[FileSystemEvent]] = [
    FileCreatedEvent, FileModifiedEvent, FileMovedEvent, FileDeletedEvent, FileClosedEvent,
    DirCreatedEvent, DirMovedEvent, DirDeletedEvent,
]
_KEPT = tuple(EVENT_FILTER)


# -- which changes matter ------------------------------------------------------------------------


def is_litter(name: str) -> bool:
    """Editors' and tools' side files: vim's swap files and its `4913` probe, backups (`x~`),
    emacs locks (`.#x`) and autosaves (`#x#`), and every hidden file or folder (temp files of
    atomic saves, `.casebook-cache/`, `.git/`, the build's staging folder)."""
    return (name.startswith(".") or name.endswith(("~", ".swp", ".swx")) or name == "4913"
            or (name.startswith("#") and name.endswith("#")))


def source_path(path: str, root: Path, out: Path, *, directory: bool = False) -> str | None:
    """`path` relative to the root when a change there can change the site, else None."""
    absolute = Path(path)
    if absolute == out or out in absolute.parents:
        return None  # the output: watching it would rebuild forever
    try:
        parts = PurePosixPath(absolute.relative_to(root).as_posix()).parts
    except ValueError:
        return None
    if not parts or any(is_litter(part) for part in parts):
        return None
    relative = "/".join(parts)
    if parts == (CONFIG,) or parts[0] == "templates":
        return relative
    if parts[0] == "cases" and (directory or len(parts) == 1 or parts[-1].endswith(".md")):
        return relative
    return None


def changed_paths(event: FileSystemEvent, root: Path, out: Path) -> tuple[str, ...]:
    """The sources an event touches: both ends of a move (editors save by renaming a temp file
    over the real one, which then appears only as the destination)."""
    if not isinstance(event, _KEPT):
        return ()
    ends = [event.src_path, event.dest_path] if event.dest_path else [event.src_path]
    found = (source_path(os.fsdecode(end), root, out, directory=event.is_directory)
             for end in ends)
    return tuple(dict.fromkeys(p for p in found if p is not None))


class _Handler(FileSystemEventHandler):
    def __init__(self, root: Path, out: Path, on_change: Callable[[Iterable[str]], None]) -> None:
        self.root, self.out, self.on_change = root, out, on_change

    def dispatch(self, event: FileSystemEvent) -> None:
        paths = changed_paths(event, self.root, self.out)
        if paths:
            self.on_change(paths)


class Watcher:
    """watchdog on the folders that hold sources, never on files (an editor's rename-save
    would orphan a watch on the file) and never on the output."""

    def __init__(self, root: Path, out: Path, on_change: Callable[[Iterable[str]], None]) -> None:
        self.root = root
        self.handler = _Handler(root, out, on_change)
        self.observer = Observer()
        self._watched: dict[str, tuple[ObservedWatch, tuple[int, int]]] = {}

    def start(self) -> None:
        try:
            self.observer.schedule(self.handler, str(self.root), event_filter=EVENT_FILTER)
            self.refresh()
            self.observer.start()
        except OSError as exc:
            raise CasebookError(f"cannot watch {self.root}: {exc.strerror or exc}") from None

    def refresh(self) -> None:
        """Watch cases/ and templates/ as they are now: made after the start, or replaced."""
        for name in SOURCES:
            folder = self.root / name
            identity = _folder_identity(folder)
            current = self._watched.get(name)
            if current is not None and current[1] == identity:
                continue
            if current is not None:
                del self._watched[name]
                with contextlib.suppress(KeyError):  # already gone with its folder
                    self.observer.unschedule(current[0])
            if identity is not None:
                watch = self.observer.schedule(self.handler, str(folder), recursive=True,
                                               event_filter=EVENT_FILTER)
                self._watched[name] = (watch, identity)

    def stop(self) -> None:
        if self.observer.is_alive():
            self.observer.stop()
            self.observer.join(timeout=5)


def _folder_identity(folder: Path) -> tuple[int, int] | None:
    try:
        info = folder.stat()
    except OSError:
        return None
    return (info.st_dev, info.st_ino) if stat.S_ISDIR(info.st_mode) else None


# -- one burst, one rebuild ----------------------------------------------------------------------


@dataclass(frozen=True)
class Burst:
    started: float  # time.monotonic() of its first event
    paths: tuple[str, ...]


class Debouncer:
    """Gathers events and lets a burst through once `quiet` seconds pass without another."""

    def __init__(self, quiet: float = QUIET) -> None:
        self.quiet = quiet
        self._cond = threading.Condition()
        self._started: float | None = None
        self._last = 0.0
        self._paths: dict[str, None] = {}
        self._closed = False

    def poke(self, paths: Iterable[str] = ()) -> None:
        with self._cond:
            now = time.monotonic()
            if self._started is None:
                self._started = now
            self._last = now
            self._paths.update(dict.fromkeys(paths))
            self._cond.notify_all()

    def wait(self) -> Burst | None:
        """Block until a burst is over and return it; None once closed."""
        with self._cond:
            while not self._closed:
                if self._started is None:
                    self._cond.wait(1.0)  # a timeout keeps Ctrl-C prompt
                    continue
                left = self._last + self.quiet - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                burst = Burst(self._started, tuple(self._paths))
                self._started, self._paths = None, {}
                return burst
            return None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class LiveSite:
    """What the open pages need: the build number and, while the last build failed, its errors
    and the casebook's locale (the language of the banner that shows them)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.build = 0
        self.errors: tuple[str, ...] = ()
        self.locale = DEFAULT_LOCALE
        self._closed = False

    def publish(self, errors: tuple[str, ...], changed: bool, locale: str | None = None) -> int:
        """Record a finished build; pages reload when the site or the errors changed."""
        with self._cond:
            if changed or errors != self.errors:
                self.build += 1
            self.errors = errors
            self.locale = locale or self.locale
            self._cond.notify_all()
            return self.build

    def snapshot(self) -> tuple[int, tuple[str, ...], str]:
        with self._cond:
            return self.build, self.errors, self.locale

    def wait_other(self, known: int, timeout: float) -> int:
        """The build number once it differs from `known` (a restarted server counts afresh),
        or after `timeout` seconds, or at once when closed."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.build == known and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return self.build

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


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
    """A broken template or an unreadable folder, said as a diagnostic would say it."""
    where = getattr(exc, "filename", None)
    line = getattr(exc, "lineno", None)
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    if isinstance(where, str):
        with contextlib.suppress(ValueError):
            where = Path(where).resolve().relative_to(root).as_posix()
        return (f"{where}:{line or 1}:1: error: {message}",)
    return (f"error: {type(exc).__name__}: {message}",)


# -- the preview: watcher, rebuild loop and server together --------------------------------------


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


# -- the HTTP side -----------------------------------------------------------------------------


class PortBusy(CasebookError):
    def __init__(self, host: str, port: int) -> None:
        super().__init__(f"port {port} on {host} is in use: stop the other server, "
                         f"or choose another port with --port")


class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True
    poll_seconds = POLL_SECONDS

    def __init__(self, address: tuple[str, int], site: LiveSite, folder: Path) -> None:
        self.site = site
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, partial(PageHandler, directory=str(folder)))

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A tab closed mid-poll is normal; anything else is logged, never a traceback on
        the terminal."""
        log.debug("error serving %s", client_address, exc_info=True)


def bind(host: str, port: int, site: LiveSite, folder: Path) -> PreviewServer:
    try:
        return PreviewServer((host, port), site, folder)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortBusy(host, port) from None
        raise CasebookError(f"cannot serve on {host} port {port}: "
                            f"{exc.strerror or exc}") from None


class PageHandler(SimpleHTTPRequestHandler):
    """Files from the site folder; HTML gets the reload script (and the errors) on the way."""

    server: PreviewServer

    def do_GET(self) -> None:
        if urlsplit(self.path).path == WAIT_PATH:
            self._wait()
        else:
            super().do_GET()

    def _wait(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        try:
            known = int(query.get("build", [""])[0])
        except ValueError:
            known = -1
        build = self.server.site.wait_other(known, self.server.poll_seconds)
        body = json.dumps({"build": build, "changed": build != known}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_head(self) -> io.BytesIO | BinaryIO | None:
        path = self.translate_path(self.path)
        if os.path.isdir(path) and urlsplit(self.path).path.endswith("/"):
            path = os.path.join(path, "index.html")
        status, page = 200, None
        if path.endswith(".html") and os.path.isfile(path):
            with contextlib.suppress(OSError):
                page = Path(path).read_bytes()
        elif urlsplit(self.path).path in ("/", "/index.html"):
            status, page = 503, NO_SITE_YET  # the first build failed: show why, then reload
        if page is None:
            return super().send_head()  # other files, folder redirects and 404s
        body = inject(page, *self.server.site.snapshot())
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")  # a reload must fetch the new CSS too
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


NO_SITE_YET = (b"<!doctype html><html><head><meta charset=\"utf-8\"><title>casebook</title>"
               b"</head><body><p>No site yet: the build has not succeeded.</p></body></html>")


def inject(page: bytes, build: int, errors: Sequence[str], locale: str = DEFAULT_LOCALE
           ) -> bytes:
    """The page with the error overlay and the reload script before its last `</body>`."""
    snippet = (overlay(errors, locale)
               + RELOAD_SCRIPT.replace("__BUILD__", str(build))).encode("utf-8")
    at = page.lower().rfind(b"</body>")
    if at < 0:
        return page + snippet
    return page[:at] + snippet + page[at:]


def overlay(errors: Sequence[str], locale: str = DEFAULT_LOCALE) -> str:
    """The banner over a page while the last rebuild failed: its own words in the casebook's
    locale, the errors as they are."""
    if not errors:
        return ""
    lines = html.escape("\n".join(errors))
    failed, fix = (html.escape(message(locale, key), quote=False)
                   for key in ("preview.failed", "preview.fix"))
    return (
        '<div id="casebook-errors" role="alert" style="position:fixed;left:0;right:0;bottom:0;'
        "z-index:2147483647;max-height:60vh;overflow:auto;margin:0;padding:1rem 1.25rem;"
        "background:#3b0d0d;color:#ffecec;border-top:4px solid #e5484d;"
        'font:14px/1.5 ui-monospace,Menlo,Consolas,monospace;text-align:left">'
        f"<strong>{failed}</strong> {fix}"
        f'<pre style="margin:.6rem 0 0;white-space:pre-wrap;font:inherit">{lines}</pre></div>'
    )


# Long-polls WAIT_PATH with the page's build number and reloads when the answer differs. A
# hidden tab stops polling (each open poll holds a connection and a server thread) and asks
# again when shown; each poll is aborted after 40 s; a lost server is retried with a backoff.
RELOAD_SCRIPT = """<script>(function () {
  var build = __BUILD__, polling = false, delay = 1000;
  function poll() {
    if (polling || document.visibilityState === "hidden") return;
    polling = true;
    var abort = new AbortController();
    var timer = setTimeout(function () { abort.abort(); }, 40000);
    fetch("/__casebook/wait?build=" + build, {cache: "no-store", signal: abort.signal})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (answer) {
        clearTimeout(timer); polling = false; delay = 1000;
        if (answer.build !== build) { location.reload(); } else { poll(); }
      }, function () {
        clearTimeout(timer); polling = false;
        setTimeout(poll, delay); delay = Math.min(delay * 2, 10000);
      });
  }
  document.addEventListener("visibilitychange", poll);
  poll();
})();</script>"""
