"""Worker processes that run the content stages of the pipeline (decode, extract, language,
relevance, topics and tone, sensitive themes, facts) on fetched pages, off the crawler's thread
and on every core.

Each worker builds its pipeline once (models, lexicons, city profile) in the process
initializer, from a factory the caller names (a picklable top-level function and its
arguments), and returns an ``Analysis`` per page. Nothing here writes: the caller's one writer
finishes each analysis against the index and stores it (pipeline/scrapy_bridge.py).

A worker that dies (killed, out of memory, a page that crashes a parser) breaks the pool: every
page then in flight gets a ``WorkerLost`` error instead of its analysis, and the next page
starts a fresh pool. A worker also ignores SIGINT/SIGTERM (its parent decides when the pool
stops) and exits by itself when its parent dies, even by kill -9.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from crawlers.items import FetchedPage

logger = logging.getLogger(__name__)

_PIPELINE: Any = None  # the worker's pipeline, built once by the initializer
PARENT_CHECK_SECONDS = 0.5
MAX_RESTARTS = 3  # broken pools replaced per crawl; past that, pages wait for a later run
# inputs given to the pool and not yet taken back, per worker (batch commands: ``in_order``)
IN_FLIGHT_PER_WORKER = 8
T = TypeVar("T")


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def worker_count(setting: int) -> int:
    """The number of worker processes a ``workers`` setting means: 0 = one per available CPU."""
    return setting if setting > 0 else available_cpus()


class WorkerLost(RuntimeError):
    """A worker process died while the page was in flight (this page or another one killed it)."""


def _exit_with_parent(parent_pid: int) -> None:
    while True:
        if os.getppid() != parent_pid:  # reparented: the crawl that started us is gone
            os._exit(1)
        time.sleep(PARENT_CHECK_SECONDS)


def _init_worker(parent_pid: int, factory: Callable[..., Any], args: tuple) -> None:
    global _PIPELINE
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True, name="exit with parent").start()
    # a stage's errors travel back with the page; only a worker that cannot start says so on stderr
    logging.getLogger().addHandler(logging.NullHandler())
    logging.getLogger().setLevel(logging.ERROR)
    logging.getLogger("concurrent.futures").addHandler(logging.StreamHandler())
    _PIPELINE = factory(*args)


def _analyze_page(page: FetchedPage):
    """A page to its content analysis, in a worker (``Pipeline.analyze_content``)."""
    return _PIPELINE.analyze_content(_PIPELINE.draft_from_page(page))


def _analyze_input(item: dict, input_id: str):
    """An ``hpmon analyze`` input to its content analysis, in a worker; raises ValueError or
    TypeError with the reason when the input is not usable (``Pipeline.draft_from_input``)."""
    return _PIPELINE.analyze_content(_PIPELINE.draft_from_input(item, input_id))


class PagePool:
    """A pool of ``workers`` processes that analyse fetched pages. Started on the first page
    (a crawl that finds nothing new costs no worker), restarted after a worker dies, up to
    ``MAX_RESTARTS`` times (workers that cannot even start must not be spawned again for every
    page); past that every page is ``WorkerLost`` at once, to be retried on a later run."""

    def __init__(self, workers: int, factory: Callable[..., Any], args: tuple = ()) -> None:
        if workers < 1:
            raise ValueError("a page pool needs at least one worker")
        self.workers = workers
        self.factory = factory
        self.args = args
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self.restarts = 0

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None and self.restarts > MAX_RESTARTS:
                raise WorkerLost(f"the worker pool broke {self.restarts} times in this crawl: not restarted")
            if self._executor is None:
                # spawn: a fork of a process with a running reactor, threads and open databases is unsafe
                self._executor = ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_init_worker, initargs=(os.getpid(), self.factory, self.args))
                logger.info("worker pool started: %d processes", self.workers)
            return self._executor

    def submit(self, page: FetchedPage) -> Future:
        """The future analysis of ``page``; its exception is ``WorkerLost`` when a worker died
        with the page in flight, or what the pipeline raised."""
        return self._submit(_analyze_page, page)

    def submit_input(self, item: dict, input_id: str) -> Future:
        """The future content analysis of one ``hpmon analyze`` input (``submit``'s errors, and
        the ValueError or TypeError of an input that is not usable)."""
        return self._submit(_analyze_input, item, input_id)

    def _submit(self, task: Callable[..., Any], *args: Any) -> Future:
        executor = self._pool()
        try:
            inner = executor.submit(task, *args)
        except BrokenProcessPool as exc:  # broken before this page got in: a fresh pool takes it
            self._discard(executor)
            logger.warning("worker pool broken (%s): starting a fresh one", exc)
            executor = self._pool()
            inner = executor.submit(task, *args)
        outer: Future = Future()

        def done(f: Future) -> None:
            if f.cancelled():  # its pool was shut down before the page got to a worker
                outer.set_exception(WorkerLost("the worker pool stopped before the page was processed"))
                return
            exc = f.exception()
            if isinstance(exc, BrokenProcessPool):
                self._discard(executor)
                outer.set_exception(WorkerLost(f"a worker process died with the page in flight ({exc})"))
            elif exc is not None:
                outer.set_exception(exc)
            else:
                outer.set_result(f.result())

        inner.add_done_callback(done)
        return outer

    def _discard(self, executor: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is not executor:
                return
            self._executor = None
            self.restarts += 1
        # not from here: this may run in the executor's own management thread, which joins itself
        threading.Thread(target=executor.shutdown, kwargs={"wait": True, "cancel_futures": True}, daemon=True,
                         name="discard broken pool").start()

    def worker_pids(self) -> list[int]:
        """The pids of the running workers (for tests and diagnostics)."""
        executor = self._executor
        processes = getattr(executor, "_processes", None) or {}
        return sorted(processes)

    def close(self) -> None:
        """Stop the workers (after the pages in flight)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


def in_order(items: Iterable[T], submit: Callable[[T], Future | None],
             window: int) -> Iterator[tuple[T, Future | None]]:
    """Each item with the future ``submit`` gave it (None: an item not sent, taken back as it
    is), in the order of ``items``, with at most ``window`` items sent ahead of the one taken
    back: the order of a batch command's output, with backpressure. An exception raised while
    ``items`` is read comes after the items read before it, so a caller reports them in order."""
    if window < 1:
        raise ValueError("the window must hold at least one item")
    pending: deque[tuple[T, Future | None]] = deque()
    source = iter(items)
    while True:
        try:
            while len(pending) < window:
                item = next(source)
                pending.append((item, _submitted(submit, item)))
        except StopIteration:
            yield from pending
            return
        except Exception:
            yield from pending
            raise
        yield pending.popleft()


def _submitted(submit: Callable[[T], Future | None], item: T) -> Future | None:
    """``submit(item)``, or a future holding what it raised (the pool could not take the item)."""
    try:
        return submit(item)
    except Exception as exc:
        future: Future = Future()
        future.set_exception(exc)
        return future
