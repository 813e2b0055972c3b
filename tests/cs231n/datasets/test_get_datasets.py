import hashlib
import io
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from cs231n.datasets import get_datasets
from cs231n.datasets.get_datasets import UnsafeArchiveError, main, unpack_archive

from ..fake_cifar import ALL_NAMES, make_archive

SCRIPT = Path(get_datasets.__file__).with_name("get_datasets.sh")
BATCH_FILES = {"cifar-10-batches-py/%s" % name: ("contents of %s" % name).encode() for name in ALL_NAMES}


def unpacked_contents(folder):
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def expected_contents():
    return {name.split("/")[1]: content for name, content in BATCH_FILES.items()}


def test_archive_is_unpacked_into_dest(tmp_path, capsys):
    archive = make_archive(tmp_path / "cifar.tar.gz", BATCH_FILES)
    assert main(["--archive", str(archive), "--dest", str(tmp_path / "data")]) == 0
    assert unpacked_contents(tmp_path / "data" / "cifar-10-batches-py") == expected_contents()
    # Nothing but the data folder is left behind (no scratch folder).
    assert os.listdir(tmp_path / "data") == ["cifar-10-batches-py"]


def test_second_run_says_the_data_is_present_and_changes_nothing(tmp_path, capsys):
    archive = make_archive(tmp_path / "cifar.tar.gz", BATCH_FILES)
    dest = tmp_path / "data"
    assert main(["--archive", str(archive), "--dest", str(dest)]) == 0
    marker = dest / "cifar-10-batches-py" / "data_batch_1"
    marker.write_bytes(b"edited")
    capsys.readouterr()

    assert main(["--archive", str(archive), "--dest", str(dest)]) == 0
    assert "already present" in capsys.readouterr().out
    assert marker.read_bytes() == b"edited"


def test_an_incomplete_folder_is_completed(tmp_path):
    archive = make_archive(tmp_path / "cifar.tar.gz", BATCH_FILES)
    data_folder = tmp_path / "data" / "cifar-10-batches-py"
    data_folder.mkdir(parents=True)
    (data_folder / "data_batch_1").write_bytes(b"truncated")
    assert main(["--archive", str(archive), "--dest", str(tmp_path / "data")]) == 0
    assert unpacked_contents(data_folder) == expected_contents()


@pytest.mark.parametrize("bad_name", ["../escaped", "cifar-10-batches-py/../../escaped", "/tmp/absolute-escape"])
def test_members_escaping_the_destination_are_rejected(tmp_path, bad_name):
    archive = make_archive(tmp_path / "evil.tar.gz", {**BATCH_FILES, bad_name: b"evil"})
    dest = tmp_path / "deep" / "data"
    with pytest.raises(UnsafeArchiveError):
        unpack_archive(archive, dest)
    assert not (tmp_path / "deep" / "escaped").exists()
    assert not (tmp_path / "escaped").exists()
    assert not (dest / "cifar-10-batches-py").exists()
    assert os.listdir(dest) == []


def test_links_in_the_archive_are_rejected(tmp_path, capsys):
    archive = tmp_path / "link.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        link = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    assert main(["--archive", str(archive), "--dest", str(tmp_path / "data")]) == 1
    assert "refusing" in capsys.readouterr().err
    assert not (tmp_path / "data" / "cifar-10-batches-py").exists()


def test_an_archive_without_the_batches_is_an_error(tmp_path, capsys):
    archive = make_archive(tmp_path / "other.tar.gz", {"cifar-10-batches-py/data_batch_1": b"x"})
    assert main(["--archive", str(archive), "--dest", str(tmp_path / "data")]) == 1
    assert "test_batch" in capsys.readouterr().err
    assert not (tmp_path / "data" / "cifar-10-batches-py").exists()


def test_a_missing_archive_is_an_error(tmp_path, capsys):
    assert main(["--archive", str(tmp_path / "nope.tar.gz"), "--dest", str(tmp_path / "data")]) == 1
    assert "nope.tar.gz" in capsys.readouterr().err


def fake_site(monkeypatch, payload):
    requested = []

    def fake_urlopen(url):
        requested.append(url)
        return io.BytesIO(payload)

    monkeypatch.setattr(get_datasets, "urlopen", fake_urlopen)
    return requested


def test_without_an_archive_the_official_archive_is_downloaded_checked_and_removed(tmp_path, monkeypatch):
    archive_bytes = make_archive(tmp_path / "site.tar.gz", BATCH_FILES).read_bytes()
    requested = fake_site(monkeypatch, archive_bytes)
    monkeypatch.setattr(get_datasets, "CIFAR10_MD5", hashlib.md5(archive_bytes).hexdigest())
    dest = tmp_path / "data"

    assert main(["--dest", str(dest)]) == 0
    assert requested == ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]
    assert unpacked_contents(dest / "cifar-10-batches-py") == expected_contents()
    assert os.listdir(dest) == ["cifar-10-batches-py"]


def test_a_download_with_the_wrong_checksum_is_discarded(tmp_path, monkeypatch, capsys):
    fake_site(monkeypatch, make_archive(tmp_path / "site.tar.gz", BATCH_FILES).read_bytes())
    dest = tmp_path / "data"
    assert main(["--dest", str(dest)]) == 1
    assert "checksum" in capsys.readouterr().err
    assert os.listdir(dest) == []


def test_shell_script_passes_a_local_archive_through(tmp_path):
    archive = make_archive(tmp_path / "cifar.tar.gz", BATCH_FILES)
    dest = tmp_path / "data"
    # Run from an unrelated folder with a relative archive path, as a student would.
    done = subprocess.run(["bash", str(SCRIPT), "cifar.tar.gz", "--dest", str(dest)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert unpacked_contents(dest / "cifar-10-batches-py") == expected_contents()

    again = subprocess.run(["bash", str(SCRIPT), "cifar.tar.gz", "--dest", str(dest)],
                           cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "already present" in again.stdout
