"""Build the compiled kernel of cs231n's fast layers, in place:

    python setup.py build_ext --inplace     # or: pip install -e .

Needs numpy and Cython (`pip install numpy cython setuptools`). Without the
compiled module cs231n still works, falling back to (slower) numpy.

The Python and numpy it asks for are the grader's (the release build writes them
from the grading spec): code that runs on other versions may fail when graded.
"""
import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

# The grader's versions (written by the release build from the spec's [environment]).
PYTHON_REQUIRES = None
NUMPY_REQUIREMENT = None

extensions = [
    Extension(
        "cs231n.im2col_cython",
        ["cs231n/im2col_cython.pyx"],
        include_dirs=[numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=["-O3"],
    ),
]

setup(
    name="cnn-homework",
    version="1.0",
    description="CNN homework: the provided cs231n framework with its compiled kernel",
    packages=["cs231n", "cs231n.datasets"],
    package_data={"cs231n": ["*.pyx"], "cs231n.datasets": ["*.sh"]},
    ext_modules=cythonize(extensions, language_level=3),
    python_requires=PYTHON_REQUIRES,
    install_requires=[NUMPY_REQUIREMENT, "matplotlib"],
    zip_safe=False,
)
