"""Unprivileged uids for sandboxed workers, one per concurrently running worker.

RLIMIT_NPROC counts every process of a uid, so two sandboxes sharing a uid would
share one process budget. Each worker claims a uid slot with an exclusive flock on
a slot file; the lock dies with the claiming process, so a killed grader never
leaks a slot.
"""
import fcntl
import os

FIRST_UID = 3_100_000      # far from login and container (subuid) ranges; needs no passwd entry
SLOTS = 4096
LOCK_DIR = "/tmp/autograder-sandbox-uids"


class UidSlot:
    def __init__(self, uid, handle):
        self.uid = uid
        self._handle = handle

    def release(self):
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def claim_uid(lock_dir=LOCK_DIR):
    """An UidSlot no other live process holds; raises RuntimeError if all are taken."""
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
        return UidSlot(FIRST_UID + slot, handle)
    raise RuntimeError("no free sandbox uid slot in %s" % lock_dir)
