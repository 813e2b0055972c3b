#!/usr/bin/env bash
# Fetch CIFAR-10 into cs231n/datasets/cifar-10-batches-py.
#
#   get_datasets.sh                                  download from the CIFAR-10 site
#   get_datasets.sh /path/to/cifar-10-python.tar.gz  unpack a local copy instead
#   get_datasets.sh [ARCHIVE] --dest DIR             unpack into DIR/cifar-10-batches-py
#
# Works from any folder; the real work is in get_datasets.py (python -m cs231n.datasets.get_datasets).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
assignment="$(dirname "$(dirname "$here")")"   # folder that holds the cs231n package

if [ $# -ge 1 ] && [ "${1#-}" = "$1" ]; then   # a first argument that is not an option is the archive
    archive="$1"
    shift
    set -- --archive "$archive" "$@"
fi

python_bin="${PYTHON:-$(command -v python3 || command -v python)}"
PYTHONPATH="$assignment${PYTHONPATH:+:$PYTHONPATH}" exec "$python_bin" -m cs231n.datasets.get_datasets "$@"
