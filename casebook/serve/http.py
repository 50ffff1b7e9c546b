"""The HTTP side of the live preview: serve `site/`, answer the pages' long polls, and inject the
reload script (and, while the last rebuild failed, its errors) into HTML as it is served.

What is injected is never written to disk: `site/` stays what `casebook build` makes. `LiveSite`
is what the rebuild loop publishes and the pages wait on. This module builds nothing and never
prints; `time.monotonic()` only bounds a long poll.
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
import threading
import time
from collections.abc import Sequence
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qs, urlsplit

from casebook.engine.reasons import message
from casebook.errors import CasebookError
from casebook.model import Config

log = logging.getLogger(__name__)

POLL_SECONDS = 30.0  # a long poll answers "no change" after this long
WAIT_PATH = "/__casebook/wait"
DEFAULT_LOCALE: str = Config.locale  # until a build has read casebook.yml


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
