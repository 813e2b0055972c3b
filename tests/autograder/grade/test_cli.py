"""`python -m autograder grade` as a command."""
import json
import subprocess
import sys
import zipfile

from tests.autograder.grade import helpers


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "autograder", "grade"] + list(args),
                          capture_output=True, text=True, cwd=str(helpers.REPO_ROOT), timeout=300)


def test_grades_a_zip_and_prints_a_summary(tmp_path):
    folder = helpers.reference_submission(tmp_path / "alice")
    archive = tmp_path / "alice.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in folder.rglob("*"):
            if path.is_file():
                z.write(path, "alice/" + str(path.relative_to(folder)))
    out = tmp_path / "out"
    proc = run_cli(str(archive), "--out", str(out), "--items", "conv_layers.max_pool_*",
                   "--seed", "5")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith("alice.zip: 16 / 16")
    data = json.loads((out / "results.json").read_text())
    assert data["extra_data"]["seed"] == 5 and data["score"] == 16


def test_visible_only_and_a_low_score_still_exit_zero(tmp_path):
    folder = helpers.reference_submission(tmp_path / "bob")
    (folder / "nndl" / "conv_layers.py").write_text("raise ImportError('nope')\n")
    out = tmp_path / "out"
    proc = run_cli(str(folder), "--out", str(out), "--visible-only", "--items", "conv_layers.*")
    assert proc.returncode == 0, proc.stderr
    data = json.loads((out / "results.json").read_text())
    assert data["score"] == 0
    assert all(t["visibility"] == "visible" for t in data["tests"])
    assert "ImportError: nope" in data["tests"][0]["output"]


def test_usage_errors(tmp_path):
    proc = run_cli(str(tmp_path / "missing"), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    assert not (tmp_path / "out").exists()
