"""Processes for the CPU-bound parts of a run, one per core."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


# What a fork server imports once for every process it starts, so that each process
# starts reading at once.
PRELOAD = ["flows.ingest"]


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes, never forked from this one: it may be running
    Prefect's threads. (So a script that runs compfeed must guard its main module, as
    multiprocessing wants.)"""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return ProcessPoolExecutor(workers, multiprocessing.get_context("spawn"))
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return ProcessPoolExecutor(workers, context)
