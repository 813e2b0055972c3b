"""Any submission name, in any encoding, gets a safe, unique id that a rerun finds again."""
import json
import os
import re

from autograder.batch import discover, tasks
from autograder.results.store import RESULTS_FILE

HOSTILE_NAMES = [b"caf\xe9 \xff\xfe.zip", b"new\nline", b"-rf", b"--force", b"x" * 250,
                 b"x" * 249 + b"y", b"Alice", b"alice", b"ALICE.zip", b"gradebook.csv",
                 b"Summary.md", b"batch.json", b"report.html", b"similarity.CSV", b"...", b"submission", b"<b>bold</b>", b"carol"]
SAFE_ID = re.compile(r"^[A-Za-z0-9@+_][A-Za-z0-9._@+-]*$")


def make_class(root, names):
    root.mkdir()
    for name in names:
        folder = os.path.join(os.fsencode(str(root)), name)
        if name.endswith(b".zip"):
            with open(folder, "wb") as f:
                f.write(b"PK\x05\x06" + b"\0" * 18)   # an empty zip
        else:
            os.makedirs(os.path.join(folder, b"nndl"))
    return root


def test_every_hostile_name_gets_a_safe_unique_id(tmp_path):
    classroom = make_class(tmp_path / "class", HOSTILE_NAMES)
    entries = discover.discover([str(classroom)])
    ids = [e.id for e in entries]
    assert len(entries) == len(HOSTILE_NAMES) - 1          # '...' is a hidden name: skipped
    assert len({i.lower() for i in ids}) == len(ids)       # unique on a case-insensitive disk
    for sid in ids:
        assert SAFE_ID.match(sid) and len(sid) <= 80, sid
        assert not sid.lower().endswith((".csv", ".md", ".json", ".html")), sid
    by_name = {os.fsencode(os.path.basename(e.path)): e.id for e in entries}
    assert by_name[b"carol"] == "carol"                    # a plain name stays as it is
    assert by_name[b"-rf"] == "rf" and by_name[b"new\nline"] == "new_line"
    assert by_name[b"Alice"].startswith("Alice-") and by_name[b"alice"].startswith("alice-")
    grades = tmp_path / "grades"
    for sid in ids:
        (grades / sid).mkdir(parents=True)                 # each is a folder of its own
    assert sorted(p.name for p in grades.iterdir()) == sorted(ids)


def test_ids_do_not_depend_on_the_order_or_the_run(tmp_path):
    names = [os.fsdecode(n) for n in HOSTILE_NAMES]
    ids = discover.assign_ids(names)
    assert discover.assign_ids(list(reversed(names))) == list(reversed(ids))
    assert discover.assign_ids(names) == ids


def test_a_name_made_to_look_like_another_id_still_gets_its_own():
    taken = discover.assign_ids(["bob", "Bob"])
    ids = discover.assign_ids(["bob", "Bob", taken[1]])
    assert len({i.lower() for i in ids}) == 3


def test_crash_reports_of_an_undecodable_name_are_written(tmp_path):
    source = os.path.join(str(tmp_path), os.fsdecode(b"stud\xffent"))
    task = tasks.GradeTask("stud_ent", source, str(tmp_path / "out"), 1, "f")
    tasks.write_crash_reports(task, [], "the grading process died 3 times")
    data = json.loads((tmp_path / "out" / RESULTS_FILE).read_text(encoding="utf-8"))
    assert data["extra_data"]["submission"] == "stud\\xffent"
