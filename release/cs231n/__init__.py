"""The cs231n framework: data loading, gradient checking, the Solver, fast layers.

numpy's BLAS (OpenBLAS) keeps its worker threads spinning after each product
(by default for 2^28 cycles, about a tenth of a second) before they sleep. In a
training step each product is followed by element-wise work that
cs231n.threads spreads over the same cores, and the spinning threads take one
of them: measured on 2 cores, the reference CNN's batchnorm and Adam ran 1.6x
slower, the whole step 1.3x. 4 (2^4 cycles) is OpenBLAS's shortest wait. It is
read once, when numpy loads OpenBLAS, so it takes effect where cs231n is
imported before numpy (the `python -m cs231n.*` commands); a value already
set is kept, and for a notebook that imports numpy first it can be set in the
environment of the Jupyter server.
"""
import os

os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
