"""The fuzz run: ``HPMON_FUZZ_CASES`` inputs per reader (default 600, short enough for every test
run; set it to 20000 for a long run) from ``HPMON_FUZZ_SEED`` (default 14). Case ``i`` is made
from ``random.Random(seed * 1_000_003 + i)``, so a failure names its case seed and
``tests.fuzz.conftest.replay(generator, case_seed)`` rebuilds that input exactly."""

from __future__ import annotations

import os
import random
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

CASES = int(os.environ.get("HPMON_FUZZ_CASES", "600"))
SEED = int(os.environ.get("HPMON_FUZZ_SEED", "14"))


class KnownCrash(AssertionError):
    """Only crashes of a kind already reported (a test marked ``xfail(strict=True,
    raises=KnownCrash)``); any other crash fails that test as usual."""


@dataclass
class FuzzRun:
    """What a run over one reader found: crashes (an exception escaped) and wrong answers."""

    name: str
    cases: int = 0
    crashes: list[str] = field(default_factory=list)
    slowest: tuple[float, int] = (0.0, -1)

    def report(self) -> str:
        return (f"fuzz {self.name}: {self.cases} inputs, {len(self.crashes)} crashes, "
                f"slowest {self.slowest[0]:.2f} s (case seed {self.slowest[1]})")

    def assert_no_crash(self, *known: str) -> None:
        """Fail listing every crash; with ``known`` (regular expressions of a reported crash: the
        exception, where it was raised), raise KnownCrash when every crash is one of them."""
        if not self.crashes:
            return
        others = [c for c in self.crashes if not any(re.search(k, c) for k in known)]
        listing = self.report() + "\n" + "\n".join((others or self.crashes)[:20])
        if others:
            raise AssertionError(listing)
        raise KnownCrash(listing)


def case_seed(i: int, seed: int = SEED) -> int:
    return seed * 1_000_003 + i


def replay(make: Callable[[random.Random], object], seed: int) -> object:
    """The input of one case again, from the case seed a failure named."""
    return make(random.Random(seed))


def fuzz(name: str, make: Callable[[random.Random], object], check: Callable[[object], None], *,
         cases: int = CASES, seed: int = SEED) -> FuzzRun:
    """Feed ``cases`` generated inputs to ``check`` (which calls the reader and asserts on its
    answer); every exception is recorded with its case seed, the run goes on."""
    run = FuzzRun(name)
    for i in range(cases):
        s = case_seed(i, seed)
        value = make(random.Random(s))
        start = time.perf_counter()
        try:
            check(value)
        except Exception as exc:  # noqa: BLE001 - what the fuzz run is looking for
            head = repr(value)[:200]
            where = traceback.extract_tb(exc.__traceback__)[-1]
            run.crashes.append(f"case seed {s}: {type(exc).__name__}: {str(exc)[:200]} "
                               f"at {where.filename}:{where.lineno} (input {head})")
        elapsed = time.perf_counter() - start
        if elapsed > run.slowest[0]:
            run.slowest = (elapsed, s)
        run.cases += 1
    print(run.report())
    return run
