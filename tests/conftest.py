"""Shared test set-up: the reference nndl package lives in solutions/ (it is
not installed, so that no student environment ever holds it as `nndl`)."""
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO_ROOT / "solutions"

if str(SOLUTIONS) not in sys.path:
    sys.path.insert(0, str(SOLUTIONS))
