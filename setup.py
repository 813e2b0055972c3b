"""Install the CNN homework kit: the provided cs231n framework (with its Cython
im2col kernel) and the autograder.

The reference nndl package in solutions/ is deliberately not installed: it is
imported from solutions/ by the tests and by the grader's trusted reference
worker only, so a student's environment never holds it under the name `nndl`.
"""
import tomllib
from pathlib import Path

import numpy
from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup

SPEC = Path(__file__).resolve().parent / "autograder" / "spec" / "grading.toml"


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

setup(
    name="cnn-homework-kit",
    version="0.1.0",
    description="CNN homework (nndl / cs231n): reference, student release and autograder",
    packages=["cs231n", "cs231n.datasets"] + find_packages(include=["autograder", "autograder.*"]),
    package_dir={"cs231n": "assignment/cs231n", "cs231n.datasets": "assignment/cs231n/datasets"},
    package_data={"cs231n": ["*.pyx", "datasets/*.sh"],
                  "autograder": ["spec/*.toml", "data/*", "release/templates/*"]},
    ext_modules=cythonize(extensions, language_level=3),
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
