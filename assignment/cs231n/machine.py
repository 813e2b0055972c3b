"""What this machine runs, for benchmark headers: the CPU model and numpy's BLAS kernel.

    describe()  # e.g. 'CPU: AMD EPYC (family 25, model 1: AMD Zen 3), 2 cores;
                #       BLAS: OpenBLAS 0.3.31 ..., kernel Haswell, 2 threads'

Speed ratios against PyTorch depend on both: OpenBLAS picks its matrix kernels
("core type") for the CPU at run time, and a virtual machine may report a
generic model name, so the CPU family and model numbers are printed too.
"""
import ctypes
import os
import re

# AMD families and models (/proc/cpuinfo) of the EPYC generations, for VMs whose
# model name is only "AMD EPYC".
_AMD_CORES = (
    (23, range(0x00, 0x30), "AMD Zen / Zen+"),
    (23, range(0x30, 0x100), "AMD Zen 2"),
    (25, range(0x00, 0x10), "AMD Zen 3"),
    (25, range(0x10, 0x20), "AMD Zen 4"),
    (25, range(0x20, 0x60), "AMD Zen 3 / Zen 4"),
    (25, range(0x60, 0x100), "AMD Zen 4"),
    (26, range(0x00, 0x100), "AMD Zen 5"),
)


def cpu_fields(path="/proc/cpuinfo"):
    """The first processor's fields of /proc/cpuinfo as a dict ({} where there is none)."""
    fields = {}
    try:
        with open(path) as cpuinfo:
            for line in cpuinfo:
                if not line.strip():
                    if fields:
                        break
                    continue
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        pass
    return fields


def cpu_model(fields=None):
    """'<model name> (family F, model M[: core])', or the platform's name where unknown."""
    fields = cpu_fields() if fields is None else fields
    name = fields.get("model name")
    if not name:
        import platform
        return platform.processor() or platform.machine() or "unknown CPU"
    try:
        family, model = int(fields["cpu family"]), int(fields["model"])
    except (KeyError, ValueError):
        return name
    core = ""
    if fields.get("vendor_id") == "AuthenticAMD":
        core = next((": " + label for fam, models, label in _AMD_CORES
                     if fam == family and model in models), "")
    return "%s (family %d, model %d%s)" % (name, family, model, core)


def openblas_library():
    """numpy's OpenBLAS (ctypes) and its symbol prefix and suffix, or None (train_cifar
    sets its thread count through it)."""
    try:
        with open("/proc/self/maps") as maps:  # Linux: the libraries loaded in this process
            paths = sorted(set(re.findall(r"(/\S*openblas\S*\.so\S*)", maps.read())))
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        # Plain builds, 64-bit-integer builds, and the scipy-openblas builds numpy wheels ship.
        for prefix, suffix in (("", ""), ("", "64_"), ("scipy_", ""), ("scipy_", "64_")):
            if hasattr(lib, "%sopenblas_get_corename%s" % (prefix, suffix)):
                return lib, prefix, suffix
    return None


def blas_kernel():
    """(config, core) of numpy's OpenBLAS, e.g. ('OpenBLAS 0.3.31 ... Haswell
    MAX_THREADS=64', 'Haswell'): the build and the kernel it chose for this CPU;
    None where numpy uses another BLAS."""
    import numpy  # noqa: F401  (loads the BLAS library into the process)
    found = openblas_library()
    if found is None:
        return None
    lib, prefix, suffix = found
    answers = []
    for name in ("get_config", "get_corename"):
        function = getattr(lib, "%sopenblas_%s%s" % (prefix, name, suffix))
        function.restype = ctypes.c_char_p
        answers.append(" ".join((function() or b"?").decode(errors="replace").split()))
    return tuple(answers)


def describe(blas_threads=None):
    """One line: the CPU model and core count, and numpy's BLAS with its kernel."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    line = "CPU: %s, %d cores; " % (cpu_model(), cpus or 1)
    kernel = blas_kernel()
    if kernel is None:
        line += "BLAS: not OpenBLAS (numpy.show_config() tells which)"
    else:
        config, core = kernel
        line += "BLAS: %s; kernel (core type) %s" % (config, core)
    if blas_threads is not None:
        line += ", %d threads" % blas_threads
    return line
