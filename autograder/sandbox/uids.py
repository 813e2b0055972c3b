"""Unprivileged uids for sandboxed workers, one per concurrently running worker.

RLIMIT_NPROC counts every process of a uid, so two sandboxes sharing a uid would
share one process budget. Each worker claims a uid slot with an exclusive flock on
a slot file; the lock dies with the claiming process, so a killed grader never
leaks a slot.

Slots are reused, and the kernel keeps some state per uid after the last process of a
sandbox is gone, so a slot is scrubbed (scrub.py: its processes killed, its SysV IPC
objects and its files in the shared temp folders deleted) right after it is claimed --
a grader killed mid-session leaves a dirty slot -- and again when it is released. A slot
whose processes cannot be killed is never released by this grader.
"""
import fcntl
import os
import sys

from autograder.sandbox.scrub import scrub_uid

FIRST_UID = 3_100_000      # far from login and container (subuid) ranges; needs no passwd entry
SLOTS = 4096
LOCK_DIR = "/tmp/autograder-sandbox-uids"
_RETIRED = []              # slots kept locked for good: something of their uid survived


class UidSlot:
    def __init__(self, uid, handle):
        self.uid = uid
        self._handle = handle

    def release(self):
        """Scrub the uid, then free the slot (unless something of the uid survived)."""
        if self._handle is None:
            return
        problems = scrub_uid(self.uid)
        if problems:
            _report(problems)
            _RETIRED.append(self._handle)
        else:
            self._handle.close()
        self._handle = None


def claim_uid(lock_dir=LOCK_DIR):
    """An UidSlot no other live process holds, scrubbed; raises RuntimeError if all are
    taken."""
    os.makedirs(lock_dir, mode=0o700, exist_ok=True)
    start = os.getpid() % SLOTS
    for offset in range(SLOTS):
        slot = (start + offset) % SLOTS
        handle = open(os.path.join(lock_dir, "slot-%d" % slot), "a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        problems = scrub_uid(FIRST_UID + slot)
        if problems:
            _report(problems)
            _RETIRED.append(handle)
            continue
        return UidSlot(FIRST_UID + slot, handle)
    raise RuntimeError("no free sandbox uid slot in %s" % lock_dir)


def _report(problems):
    for problem in problems:
        print("autograder: sandbox uid slot kept out of use: %s" % problem, file=sys.stderr)
