"""Canvas's download archive: its names read as Canvas writes them, one submission per
student, the archive's members copied with the stager's guards, stable across reruns."""
import os
import stat
import zipfile

import pytest

from autograder import lms
from autograder.batch import discover, state
from autograder.lms import canvas_download
from autograder.lms.archive import Archive
from tests.autograder.lms import archives


def test_names_as_canvas_writes_them():
    parse = canvas_download.parse_name
    ada = parse("lovelaceada_101_5003_CNN.ipynb")
    assert (ada["name"], ada["user_id"], ada["late"], ada["attachment_id"], ada["original"]) == \
        ("lovelaceada", "101", False, 5003, "CNN.ipynb")
    late = parse("babbagebob_LATE_102_6001_cnn_submission.zip")
    assert late["late"] and late["user_id"] == "102" and late["original"] == \
        "cnn_submission.zip"
    # a file name with underscores and digits of its own stays whole
    assert parse("smith_7_9_my_2_3_notes.py")["original"] == "my_2_3_notes.py"
    # anonymous grading: no name, the anonymous id instead of the user id
    anon = parse("LATE_anon_Xy12z_88_CNN.ipynb")
    assert anon["anonymous_id"] == "Xy12z" and anon["late"] and anon["user_id"] == ""
    assert parse("hoppergrace_103_text.html") is None       # a text entry: no attachment id
    assert parse("notes.txt") is None


def test_reuploads_and_what_is_graded():
    graded = canvas_download.graded_name
    assert graded("layers-1.py") == "layers.py"
    assert graded("CNN-Layers-2.ipynb") == "CNN-Layers.ipynb"
    assert graded("CNN-Layers.ipynb") == "CNN-Layers.ipynb"
    assert graded("cnn_model-1.npz") == "cnn_model.npz"
    assert graded("my homework.zip") == canvas_download.ZIP_NAME
    assert graded("report.pdf") is None and graded("helpers.py") is None


def uploads(*names):
    members = [archives_member(n) for n in names]
    students, notes = canvas_download.students(members)
    return students, notes


def archives_member(name):
    from autograder.lms.archive import Member
    return Member(name, 10)


def test_a_students_files_are_one_submission_and_the_later_upload_wins():
    students, notes = uploads("ada_101_1_CNN.ipynb", "ada_101_2_layers.py",
                              "ada_101_3_layers-1.py", "ada_101_4_report.pdf",
                              "bob_102_text.html", "bob_LATE_102_8_CNN.ipynb")
    ada, bob = students
    assert ada.submission_name == "ada_101" and sorted(ada.graded) == ["CNN.ipynb", "layers.py"]
    assert ada.graded["layers.py"].original == "layers-1.py"
    assert any("report.pdf" in note for note in ada.notes) and not ada.review
    assert bob.late and list(bob.graded) == ["CNN.ipynb"]
    assert any("text entry" in note for note in notes)


def test_a_zip_beside_loose_files_is_graded_and_flagged_for_review():
    (ada,), _ = uploads("ada_101_1_CNN.ipynb", "ada_101_2_cnn_submission.zip")
    assert ada.is_zip and "graded the zip" in ada.review
    (bob,), _ = uploads("bob_102_1_a.zip", "bob_102_5_b.zip")
    assert bob.is_zip and bob.graded[canvas_download.ZIP_NAME].original == "b.zip"
    assert "several zips" in bob.review


def test_canvas_archives_are_recognised_and_nothing_else(tmp_path):
    download = archives.canvas_download(tmp_path / "download.zip", tmp_path)
    assert lms.detect(str(download)) == "canvas"
    assert not discover.single_submission([str(download)])
    with zipfile.ZipFile(download) as z:
        z.extractall(tmp_path / "unpacked")
    assert lms.detect(str(tmp_path / "unpacked")) == "canvas"
    one = archives.submission_files(tmp_path / "alice")   # a student's own folder and zip
    assert lms.detect(str(tmp_path / "alice")) is None
    (tmp_path / "alice.zip").write_bytes(archives.zipped(one))
    assert lms.detect(str(tmp_path / "alice.zip")) is None
    assert discover.single_submission([str(tmp_path / "alice.zip")])
    classroom = tmp_path / "class"
    classroom.mkdir()
    (classroom / "alice.zip").write_bytes(archives.zipped(one))
    assert lms.detect(str(classroom)) is None


def test_the_unpacked_folder_gives_the_zips_submissions(tmp_path):
    download = archives.canvas_download(tmp_path / "download.zip", tmp_path)
    with zipfile.ZipFile(download) as z:
        z.extractall(tmp_path / "unpacked")
    from_zip = discover.discover([str(download)], unpack_dir=str(tmp_path / "a"))
    from_folder = discover.discover([str(tmp_path / "unpacked")], unpack_dir=str(tmp_path / "b"))
    assert [(e.id, e.lms) for e in from_zip] == [(e.id, e.lms) for e in from_folder]
    assert [e.id for e in from_zip] == ["babbagebob_102", "droppeddee_105", "lovelaceada_101"]
    ada = from_folder[-1]
    assert sorted(os.listdir(os.path.join(ada.path))) == sorted(
        ["CNN-BatchNorm.ipynb", "CNN-Layers.ipynb", "CNN.ipynb", "__init__.py", "cnn.py",
         "conv_layer_utils.py", "conv_layers.py", "fc_net.py", "layer_utils.py", "layers.py",
         "optim.py"])
    assert "broken on purpose" not in open(os.path.join(ada.path, "conv_layers.py")).read()


def test_a_changed_download_is_unpacked_again_with_the_same_fingerprints(tmp_path):
    download = archives.canvas_download(tmp_path / "download.zip", tmp_path)
    first = discover.discover([str(download)], unpack_dir=str(tmp_path / "lms"))
    prints = {e.id: state.fingerprint(e.path) for e in first}
    # the same download again, plus one more student: only the newcomer is new
    with zipfile.ZipFile(download, "a") as z:
        z.writestr("newnina_106_9001_CNN.ipynb", b"{}")
    second = discover.discover([str(download)], unpack_dir=str(tmp_path / "lms"))
    assert [e.id for e in second] == sorted(list(prints) + ["newnina_106"])
    assert {e.id: state.fingerprint(e.path) for e in second if e.id in prints} == prints


def test_hostile_members_are_refused_and_nothing_leaves_the_unpack_folder(tmp_path):
    path = tmp_path / "download.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("ada_101_1_CNN.ipynb", b"{}")
        z.writestr("../evil_101_2_CNN-Layers.ipynb", b"{}")
        z.writestr("/abs_101_3_CNN.ipynb", b"{}")
        link = zipfile.ZipInfo("ada_101_4_layers.py")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(link, "/etc/passwd")
        bomb = zipfile.ZipInfo("ada_101_5_cnn_model.npz")
        bomb.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(bomb, b"\0" * (8 * 1024 * 1024))
    opened = lms.open_class(str(path), "canvas", str(tmp_path / "lms"))
    (ada,) = opened.submissions
    assert sorted(os.listdir(ada.path)) == ["CNN.ipynb"]
    notes = " ".join(opened.notes + ada.identity["notes"])
    assert "'..' in the path" in notes and "absolute path" in notes
    assert "symbolic link" in notes and "zip bomb" in notes
    assert not (tmp_path / "evil_101_2_CNN-Layers.ipynb").exists()


def test_an_unpacked_download_with_a_link_copies_no_link(tmp_path):
    folder = tmp_path / "unpacked"
    folder.mkdir()
    (folder / "ada_101_1_CNN.ipynb").write_text("{}")
    (tmp_path / "secret.py").write_text("SECRET = 1\n")
    os.symlink(tmp_path / "secret.py", folder / "ada_101_2_layers.py")
    with Archive(str(folder)) as archive:
        assert [m.name for m in archive.members] == ["ada_101_1_CNN.ipynb"]
        assert any("symbolic link" in note for note in archive.notes)


def test_a_path_named_canvas_that_is_not_is_a_clear_error(tmp_path):
    folder = tmp_path / "class"
    (folder / "alice").mkdir(parents=True)
    with pytest.raises(lms.LmsError, match="named as Canvas names its downloads"):
        discover.discover([str(folder)], lms_from="canvas", unpack_dir=str(tmp_path / "lms"))
