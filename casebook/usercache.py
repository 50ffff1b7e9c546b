"""The user's own cache folder, and a seal on what casebook caches inside a casebook.

A casebook travels by git, and a repository can carry any file, a `.casebook-cache/` included.
What casebook reads back from its caches is code or becomes objects (pickles, compiled
templates), so it must never come from someone else's repository. Two rules hold that:

- compiled templates live in the user's cache folder (`$XDG_CACHE_HOME/casebook`, else
  `~/.cache/casebook`), never inside a casebook; they are keyed by each template's source, so
  casebooks share them, and the shipped templates are compiled once per installation, as
  Python compiles a package's modules once;
- the caches inside a casebook are sealed with a keyed digest whose key (random, made on first
  use, readable by the user alone) lives in that folder; a cache file without a valid seal
  is not unpickled, only ignored.

Without a usable cache folder a process makes a key of its own: nothing it reads back from
an earlier run validates, which costs speed and nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from functools import cache
from pathlib import Path

SEAL_SIZE = 32
_KEY_NAME = "key"


@cache
def user_cache_dir() -> Path | None:
    """The user's casebook cache folder, made private on first use; None if none can be."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None
    folder = Path(base) / "casebook"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK):
            return None
    except OSError:
        return None
    return folder


@cache
def _key() -> bytes:
    folder = user_cache_dir()
    if folder is None:
        return secrets.token_bytes(32)
    path = folder / _KEY_NAME
    try:
        data = path.read_bytes()
        if len(data) == 32:
            return data
    except OSError:
        pass
    key = secrets.token_bytes(32)
    try:  # made once, readable by the user alone; another process may win the race
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "wb") as out:
            out.write(key)
        return key
    except FileExistsError:
        data = path.read_bytes()
        return data if len(data) == 32 else key
    except OSError:
        return key


def _mac(data: bytes | memoryview) -> bytes:
    return hashlib.blake2b(data, key=_key(), digest_size=SEAL_SIZE).digest()


def seal(data: bytes) -> bytes:
    """`data` with this user's seal in front."""
    return _mac(data) + data


def seal_of(data: bytes) -> bytes:
    """The seal `seal` puts in front of `data` (written before it, the two are not copied
    into one: a table of 100,000 cases is tens of megabytes)."""
    return _mac(data)


def unseal(blob: bytes) -> memoryview | None:
    """The data of a sealed blob (a view into it, not a copy), or None when the seal is
    missing or not this user's."""
    view = memoryview(blob)
    mac, data = view[:SEAL_SIZE], view[SEAL_SIZE:]
    if len(mac) != SEAL_SIZE or not hmac.compare_digest(mac, _mac(data)):
        return None
    return data
