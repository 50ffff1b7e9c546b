"""Work on every core: each case file is parsed in one worker, which runs the work asked on it
(a `Task`) right there, when the file parses without an error of its own.

Work flows one way. The parent hands out files to parse, a batch at a time to whichever worker
is free, and gets back each file's summary and, for a case, the task's result; it then checks
the whole casebook and drops the results of the cases the checks refuse (`loader`). So no
worker holds a case after its answer: memory does not grow with the casebook. Whole case models
never travel between processes, and nothing is parsed twice. The config and the task reach
the workers as the arguments they are forked with, never through module state. Below a few
hundred files a pool costs more than it saves, and the same work is done in this process.
"""

from __future__ import annotations

import contextlib
import gc
import os
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any, Generic, TypeVar

from casebook.load.files import FileSummary, clean, file_key, parse_file, summarize, unreadable
from casebook.model import Case, Config
from casebook.read.discover import read_limited

T = TypeVar("T")

BATCH_MOST = 40  # files sent to a worker at once
PARALLEL_FROM = 300  # below this many files to parse, a worker pool costs more than it saves

Job = tuple[str, str, str]  # relative path, full path, key ("" when not read yet)
#: relative path, key, summary, and the task's result in a 1-tuple (None: no case, or no task)
Parsed = tuple[str, str, FileSummary, tuple[Any] | None]
Run = Callable[[Case, Config], T]


class Hands(Generic[T]):
    """One process's work: parse a file and, when it is a case, run the task on it."""

    def __init__(self, config: Config, run: Run[T] | None) -> None:
        self.config, self.run = config, run

    def parse(self, job: Job) -> Parsed:
        relative, path, key = job
        try:
            data = read_limited(path)
        except OSError as exc:
            return relative, key, unreadable(relative, exc), None
        key = key or file_key(data)
        parsed = parse_file(relative, data, self.config)
        case = clean(parsed)
        summary = summarize(relative, key, parsed)
        if self.run is None or case is None:
            return relative, key, summary, None
        return relative, key, summary, (self.run(case, self.config),)


class Workers(Generic[T]):
    """Parse files and run a task on the cases that pass the checks, here or on every core.

    Use it as a context manager: `parse(jobs)` yields each file's summary and the task's
    result on its case."""

    def __init__(self, config: Config, run: Run[T] | None, files: int) -> None:
        self.hands = Hands(config, run)
        count = os.cpu_count() or 1
        self.pool: list[Connection] = []
        self.processes: list[Any] = []
        self.workers = count if files >= PARALLEL_FROM and count >= 2 else 0
        self.size = max(1, min(files // (max(self.workers, 1) * 8), BATCH_MOST))

    def __enter__(self) -> Workers[T]:
        if self.workers:
            import multiprocessing

            context = multiprocessing.get_context("fork")
            for _ in range(self.workers):
                mine, theirs = context.Pipe()
                process = context.Process(target=_serve, args=(theirs, self.hands), daemon=True)
                process.start()
                theirs.close()
                self.pool.append(mine)
                self.processes.append(process)
        return self

    def __exit__(self, *exc: object) -> None:
        for conn in self.pool:
            with contextlib.suppress(OSError):
                conn.send(None)
            conn.close()
        for process in self.processes:
            process.join(timeout=5)
        self.pool.clear()
        self.processes.clear()

    def parse(self, jobs: Sequence[Job]) -> Iterator[Parsed]:
        if not self.pool:
            yield from map(self.hands.parse, jobs)
            return
        shared = deque(self._batches(list(jobs)))
        for _worker, done in self._exchange("parse", [shared] * len(self.pool)):
            yield from done

    def _batches(self, items: list[Any]) -> Iterator[list[Any]]:
        return (items[i:i + self.size] for i in range(0, len(items), self.size))

    def _exchange(self, kind: str, queues: list[deque[list[Any]]]) -> Iterator[tuple[int, Any]]:
        """Keep each worker busy with one batch from its queue at a time (queues may be one
        shared queue), and yield (worker, answer) as answers come."""
        busy: dict[Connection, int] = {}

        def feed(worker: int) -> None:
            if queues[worker]:
                self.pool[worker].send((kind, queues[worker].popleft()))
                busy[self.pool[worker]] = worker

        for worker in range(len(self.pool)):
            feed(worker)
        while busy:
            for ready in wait(list(busy)):
                conn = self.pool[busy[ready]]  # type: ignore[index]
                worker = busy.pop(conn)
                answer = _received(conn)
                feed(worker)
                yield worker, answer


def _received(conn: Connection) -> Any:
    try:
        ok, answer = conn.recv()
    except EOFError:
        raise RuntimeError("a worker process ended unexpectedly") from None
    if not ok:
        raise answer
    return answer


def _serve(conn: Connection, hands: Hands[Any]) -> None:
    """A worker: answers batches until told to stop. It collects its own garbage (rendering
    makes reference cycles); what it inherited from the parent is frozen, never rescanned."""
    gc.freeze()
    gc.enable()
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        _kind, batch = message
        try:
            answer = [hands.parse(job) for job in batch]
        except Exception as exc:  # sent back, to be raised in the parent
            conn.send((False, _sendable(exc)))
            continue
        conn.send((True, answer))


def _sendable(exc: Exception) -> Exception:
    """The exception itself when it pickles, else a RuntimeError carrying its traceback."""
    import pickle

    try:
        pickle.dumps(exc)
        return exc
    except Exception:
        return RuntimeError("".join(traceback.format_exception(exc)))
