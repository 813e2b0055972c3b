"""cs231n.allocator: freed big arrays are reused without new page faults."""
import subprocess
import sys
import textwrap

import pytest

# Allocates and frees a 52 MB array (one conv activation of the reference CNN)
# five times and prints the minor page faults per allocation after the first.
PROBE = textwrap.dedent("""
    import resource, sys
    import numpy as np
    from cs231n.allocator import keep_freed_memory
    if sys.argv[1] == "keep":
        assert keep_freed_memory() is True
        assert keep_freed_memory() is True  # idempotent
    def faults():
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    a = np.ones(13 << 20, np.float32); del a
    before = faults()
    for _ in range(5):
        a = np.ones(13 << 20, np.float32); del a
    print((faults() - before) / 5)
""")


def faults_per_allocation(mode):
    result = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True,
                            check=True)
    return float(result.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_big_arrays_are_reused_without_page_faults():
    kept = faults_per_allocation("keep")
    assert kept < 20
    default = faults_per_allocation("default")
    if default < 100:
        pytest.skip("this kernel/allocator does not fault a fresh 52 MB array in (%.0f)" % default)
    assert kept < default / 10
