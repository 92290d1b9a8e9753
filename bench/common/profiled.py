"""python -m bench.common.profiled OUT MODULE [ARGS...]: runs `python -m MODULE ARGS` under cProfile
timed by its main thread's CPU time, and writes the stats to OUT when the module returns (a
SIGTERM the module handles gracefully included).

`python -m cProfile` times by the wall clock: on a host whose cores the measured processes share,
a function's time then includes the moments the process waited for a core, which says more
about the other processes than about the function."""

from __future__ import annotations

import cProfile
import runpy
import sys
import time


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        raise SystemExit("usage: python -m bench.common.profiled OUT MODULE [ARGS...]")
    out, module, args = argv[0], argv[1], argv[2:]
    sys.argv = [module, *args]
    profiler = cProfile.Profile(time.thread_time)
    profiler.enable()
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    finally:
        profiler.disable()
        profiler.dump_stats(out)


if __name__ == "__main__":
    main(sys.argv[1:])
