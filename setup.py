"""Install the CNN homework kit: the provided cs231n framework (with its Cython
im2col kernel) and the autograder.

The reference nndl package in solutions/ is deliberately not installed: it is
imported from solutions/ by the tests and by the grader's trusted reference
worker only, so a student's environment never holds it under the name `nndl`.
Its compiled kernels (solutions/nndl/_reference_kernels.pyx: Adam and batchnorm,
which are homework) are built in place beside it, for the instructor only (see
BuildExt), and never go into an installed package or the release.
"""
import tomllib
from pathlib import Path

import numpy
from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
SPEC = ROOT / "autograder" / "spec" / "grading.toml"
REFERENCE_KERNELS = "solutions/nndl/_reference_kernels.pyx"


def grader_numpy_requirement():
    """numpy==<series>.*: the series the grading spec's [environment] declares (the grader's
    numpy, which the student release pins too), so the kit grades on what students install."""
    with open(SPEC, "rb") as f:
        series = tomllib.load(f)["environment"]["numpy"]
    return "numpy==%s.*" % series


extensions = [
    Extension(
        "cs231n.im2col_cython",
        ["assignment/cs231n/im2col_cython.pyx"],
        include_dirs=[numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=["-O3"],
    ),
]


def reference_extensions():
    """The reference solution's kernels, nndl._reference_kernels (instructor-only)."""
    return cythonize([Extension(
        "nndl._reference_kernels",
        [REFERENCE_KERNELS],
        include_dirs=[numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        # -fno-math-errno: sqrt need not set errno, so the Adam loop vectorises (nothing
        # reads errno); -ffp-contract=off: no fused multiply-add even under -march=native,
        # so the kernels round as the reference's numpy code does.
        extra_compile_args=["-O3", "-fno-math-errno", "-ffp-contract=off"],
    )], language_level=3)


class BuildExt(build_ext):
    """build_ext that, building in place (`python setup.py build_ext --inplace`,
    `pip install -e .`) in a checkout that holds solutions/, also builds the reference's
    kernels into solutions/nndl/. They are not in ext_modules, so no wheel, sdist or
    editable finder knows them (an editable finder would map `nndl` to solutions/nndl),
    and a tree without solutions/ (the Gradescope sdist) builds as before."""

    def finalize_options(self):
        if not ((self.inplace or self.editable_mode) and (ROOT / REFERENCE_KERNELS).is_file()):
            super().finalize_options()
            return
        # build_ext takes its extension list from the distribution while it finalises:
        # lend it the reference's for that moment only.
        kit_extensions = self.distribution.ext_modules
        self.distribution.ext_modules = kit_extensions + reference_extensions()
        try:
            super().finalize_options()
        finally:
            self.distribution.ext_modules = kit_extensions

setup(
    name="cnn-homework-kit",
    version="0.1.0",
    description="CNN homework (nndl / cs231n): reference, student release and autograder",
    packages=["cs231n", "cs231n.datasets"] + find_packages(include=["autograder", "autograder.*"]),
    # "nndl" is not a package of the kit: the entry only tells an in-place build where the
    # reference's kernels go.
    package_dir={"cs231n": "assignment/cs231n", "cs231n.datasets": "assignment/cs231n/datasets",
                 "nndl": "solutions/nndl"},
    package_data={"cs231n": ["*.pyx", "datasets/*.sh"],
                  "autograder": ["spec/*.toml", "data/*", "release/templates/*"]},
    ext_modules=cythonize(extensions, language_level=3),
    cmdclass={"build_ext": BuildExt},
    python_requires=">=3.11",  # tomllib
    install_requires=[grader_numpy_requirement(), "nbformat>=5", "nbclient>=0.7", "ipykernel>=6",
                      "nbgrader>=0.9", "matplotlib>=3.5",
                      # the class similarity report's engine (winnowing, boilerplate removal)
                      "copydetect>=0.5,<0.6",
                      # Gradescope's export metadata (submission_metadata.yml) is YAML: read
                      # with its safe loader (autograder/lms/gradescope_export.py); nbgrader
                      # installs it already, named here because the kit imports it itself
                      "PyYAML>=5.1",
                      # the kit builds Cython code at run time too: the student release's
                      # extension, and the sdist inside the Gradescope zip
                      "Cython>=3.0", "setuptools>=64"],
    extras_require={"test": ["pytest>=7", "dask[distributed]>=2023.1"], "torch": ["torch"],
                    "dask": ["dask[distributed]>=2023.1"]},
    entry_points={"console_scripts": ["autograder=autograder.__main__:main"]},
    zip_safe=False,
)
