"""Where a class's submissions are graded: one table of backends, called the same way.

Each backend grades GradeTasks and calls on_done(Done) as each finishes; results.json
files land in the class's grades folder either way (a Dask worker sends them back).
Imported lazily: a local run needs no Dask installed.
"""
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Backend:
    """
    - name: as the run names it ('local' or 'dask')
    - where(jobs, scheduler) -> str: the progress line's "on ..." text
    - grade(tasks, options, items, on_done, jobs, scheduler): grade them all
    """
    name: str
    where: Callable
    grade: Callable


def _grade_locally(tasks, options, items, on_done, jobs, scheduler):
    from autograder.batch.local import grade_locally
    grade_locally(tasks, options, items, jobs, on_done)


def _grade_on_dask(tasks, options, items, on_done, jobs, scheduler):
    from autograder.batch.dask_cluster import grade_on_dask
    grade_on_dask(tasks, options, items, scheduler, on_done)


BACKENDS = {
    "local": Backend("local", lambda jobs, scheduler: "%d local process%s"
                     % (jobs, "es" * (jobs > 1)), _grade_locally),
    "dask": Backend("dask", lambda jobs, scheduler: "the Dask cluster at %s" % scheduler,
                    _grade_on_dask),
}


def backend_for(scheduler) -> Backend:
    """The Dask backend when a scheduler address is given, else the local process pool."""
    return BACKENDS["dask" if scheduler else "local"]
