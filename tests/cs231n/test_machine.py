"""cs231n.machine: the CPU model and BLAS kernel lines benchmarks print."""
import numpy as np

from cs231n import machine

EPYC_KVM = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC
stepping\t: 1

processor\t: 1
vendor_id\t: AuthenticAMD
"""

XEON = """processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 85
model name\t: Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz
"""


def test_cpu_model_names_the_amd_core_of_a_generic_model_name(tmp_path):
    path = tmp_path / "cpuinfo"
    path.write_text(EPYC_KVM)
    fields = machine.cpu_fields(str(path))
    assert fields["model name"] == "AMD EPYC" and "processor" in fields
    assert machine.cpu_model(fields) == "AMD EPYC (family 25, model 1: AMD Zen 3)"
    path.write_text(XEON)
    assert machine.cpu_model(machine.cpu_fields(str(path))) == (
        "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz (family 6, model 85)")


def test_missing_cpuinfo_gives_a_name_anyway(tmp_path):
    assert machine.cpu_fields(str(tmp_path / "absent")) == {}
    assert machine.cpu_model({}) != ""


def test_describe_names_the_blas_kernel_numpy_uses():
    line = machine.describe(2)
    assert line.startswith("CPU: ") and line.endswith(", 2 threads")
    kernel = machine.blas_kernel()
    if kernel is not None:  # numpy's wheels ship OpenBLAS
        config, core = kernel
        assert config.startswith("OpenBLAS") and core and core in line
    assert np.ones(1).sum() == 1
