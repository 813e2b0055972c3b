#!/usr/bin/env bash
# Check the homework is complete and write cnn_submission.zip (see collect_submission.py).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
exec "${PYTHON:-python3}" collect_submission.py "$@"
