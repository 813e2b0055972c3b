"""Resource limits of one sandboxed worker process, and applying them before exec."""
import resource
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """
    - cpu_seconds: RLIMIT_CPU of each process (the wall clock is enforced per request)
    - memory_mb: RLIMIT_AS (address space) of each process
    - max_processes: RLIMIT_NPROC for the sandbox's own uid (threads count too)
    - output_bytes: stdout + stderr kept; a worker printing more is stopped
    - file_bytes: RLIMIT_FSIZE, largest file the worker may write
    - open_files: RLIMIT_NOFILE
    - tmp_bytes: size of the sandbox's private /tmp (a tmpfs: RAM outside RLIMIT_AS; bwrap only)
    - work_bytes: size of the work folder (a tmpfs with bwrap and unshare, else checked by the
      grader between requests)
    """
    cpu_seconds: int = 900
    memory_mb: int = 4096
    max_processes: int = 64
    output_bytes: int = 256 * 1024
    file_bytes: int = 512 * 1024 * 1024
    open_files: int = 256
    tmp_bytes: int = 512 * 1024 * 1024
    work_bytes: int = 1024 * 1024 * 1024


def apply_rlimits(limits, nproc=True):
    """Set the limits on the calling process (run in the child between fork and exec)."""
    _set(resource.RLIMIT_CPU, limits.cpu_seconds)
    _set(resource.RLIMIT_AS, limits.memory_mb * 1024 * 1024)
    _set(resource.RLIMIT_FSIZE, limits.file_bytes)
    _set(resource.RLIMIT_NOFILE, limits.open_files)
    _set(resource.RLIMIT_CORE, 0)
    if nproc:
        _set(resource.RLIMIT_NPROC, limits.max_processes)


def _set(kind, value):
    soft, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, value))

