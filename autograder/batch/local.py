"""Grade a class on this machine: a pool of processes, each with its own Grader.

Each pool process keeps one Grader (so one trusted reference worker whose
observations are computed once under the class's seed and reused for every
submission it grades) and writes each submission's reports atomically as soon as
it is graded. Pool processes are started fresh ('spawn': no threads or locks
inherited from the parent) and die with the parent, so a killed run leaves no
orphans. If a pool process dies, the pool is rebuilt and the unfinished
submissions are retried; a submission that keeps killing it gets crash reports.
"""
import concurrent.futures as cf
import multiprocessing
import multiprocessing.util
from concurrent.futures.process import BrokenProcessPool

from autograder.batch.tasks import done_from, write_crash_reports

MAX_ATTEMPTS = 3
_grader = None


def _start_worker(options):
    global _grader
    from autograder.kit import forget_working_directory
    from autograder.grade.pipeline import Grader
    from autograder.sandbox.lifetime import die_with_parent
    die_with_parent()
    forget_working_directory()
    _grader = Grader(options)
    # multiprocessing runs these finalizers when the pool process exits (atexit does not run)
    multiprocessing.util.Finalize(_grader, _grader.close, exitpriority=10)


def _grade(task):
    result = _grader.grade(task.source, task.out_dir, seed=task.seed, name=task.name,
                           records=task.records())
    return done_from(task, result)


def grade_locally(tasks, options, items, jobs, on_done):
    """Grade `tasks` (GradeTask) on `jobs` processes; on_done(Done) as each finishes."""
    pending = list(tasks)
    attempts = {}
    context = multiprocessing.get_context("spawn")
    while pending:
        with cf.ProcessPoolExecutor(max_workers=max(1, min(jobs, len(pending))),
                                    mp_context=context, initializer=_start_worker,
                                    initargs=(options,)) as pool:
            futures = {pool.submit(_grade, task): task for task in pending}
            pending = []
            for future in cf.as_completed(futures):
                task = futures[future]
                try:
                    on_done(future.result())
                except BrokenProcessPool:
                    attempts[task.id] = attempts.get(task.id, 0) + 1
                    if attempts[task.id] < MAX_ATTEMPTS:
                        pending.append(task)
                    else:
                        on_done(write_crash_reports(task, items, "the grading process died "
                                                    "%d times" % MAX_ATTEMPTS))
                except Exception as error:  # a grader bug on this submission only
                    on_done(write_crash_reports(task, items, "%s: %s"
                                                % (type(error).__name__, error)))
