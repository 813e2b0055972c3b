"""Download CIFAR-10, or unpack a local copy of its archive, for cs231n.data_utils.

    python -m cs231n.datasets.get_datasets                  # download from the CIFAR-10 site
    python -m cs231n.datasets.get_datasets --archive PATH   # unpack a local cifar-10-python.tar.gz
    ... --dest DIR    # unpack into DIR/cifar-10-batches-py (default: next to this file)

If the destination already holds every batch file nothing is done. Archives are
unpacked into a temporary folder inside the destination first, so a failed run
never leaves a folder that looks complete; members that are links, special
files, or whose path leaves the destination are rejected.
"""
import argparse
import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path
from urllib.request import urlopen

from cs231n.data_utils import DATA_FOLDER_NAME, DEFAULT_CIFAR10_DIR, missing_files

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
# Checksum published for the archive on the CIFAR-10 site; checked on download only
# (a local archive may be a different build of the same layout).
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
DEFAULT_DEST = DEFAULT_CIFAR10_DIR.parent
_CHUNK_BYTES = 1 << 20


class UnsafeArchiveError(ValueError):
    """An archive member would be written outside the destination, or is not a plain file."""


class DownloadError(RuntimeError):
    """The downloaded archive does not match the published checksum."""


def main(argv=None):
    """Command-line entry point; returns the process exit code."""
    args = _parse_args(argv)
    dest = Path(args.dest)
    data_folder = dest / DATA_FOLDER_NAME
    if not missing_files(data_folder):
        print("CIFAR-10 is already present in %s; nothing to do." % data_folder)
        return 0
    try:
        dest.mkdir(parents=True, exist_ok=True)
        if args.archive is not None:
            unpack_archive(args.archive, dest)
        else:
            archive = dest / ARCHIVE_NAME
            download(CIFAR10_URL, archive, CIFAR10_MD5)
            unpack_archive(archive, dest)
            archive.unlink()
    except (OSError, tarfile.TarError, UnsafeArchiveError, DownloadError) as error:
        print("error: %s" % error, file=sys.stderr)
        return 1
    print("CIFAR-10 is ready in %s" % data_folder)
    return 0


def _parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m cs231n.datasets.get_datasets",
        description="Download CIFAR-10 (python version) or unpack a local copy of its archive.")
    parser.add_argument("--archive", metavar="PATH",
                        help="unpack this local cifar-10-python.tar.gz instead of downloading")
    parser.add_argument("--dest", metavar="DIR", default=str(DEFAULT_DEST),
                        help="folder to unpack into; the data lands in DIR/%s (default: %s)"
                        % (DATA_FOLDER_NAME, DEFAULT_DEST))
    return parser.parse_args(argv)


def download(url, target, expected_md5):
    """Stream `url` into the file `target` and check its md5; raises DownloadError on mismatch."""
    target = Path(target)
    partial = target.with_name(target.name + ".part")
    digest = hashlib.md5(usedforsecurity=False)
    print("Downloading %s ..." % url)
    try:
        with urlopen(url) as response, open(partial, "wb") as out:
            for chunk in iter(lambda: response.read(_CHUNK_BYTES), b""):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != expected_md5:
            raise DownloadError("checksum mismatch for %s: got md5 %s, expected %s"
                                % (url, digest.hexdigest(), expected_md5))
        os.replace(partial, target)
    finally:
        if partial.exists():
            partial.unlink()


def unpack_archive(archive, dest):
    """
    Unpack the cifar-10-batches-py folder of a .tar.gz archive into `dest`.

    Returns the path of dest/cifar-10-batches-py. Raises UnsafeArchiveError for
    unsafe members and FileNotFoundError if the archive lacks a batch file.
    """
    archive, dest = Path(archive), Path(dest)
    if not archive.is_file():
        raise FileNotFoundError("archive not found: %s" % archive)
    print("Unpacking %s into %s ..." % (archive, dest))
    dest.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".cifar10-unpack-", dir=dest))
    try:
        with tarfile.open(archive, "r:*") as tar:
            # A generator over `tar` keeps extraction to one pass over the compressed stream.
            tar.extractall(scratch, members=_checked_members(tar, scratch), **_EXTRACT_FILTER)
        unpacked = scratch / DATA_FOLDER_NAME
        missing = missing_files(unpacked)
        if missing:
            raise FileNotFoundError("%s has no complete %s folder (missing %s)"
                                    % (archive, DATA_FOLDER_NAME, ", ".join(missing)))
        _move_into(unpacked, dest / DATA_FOLDER_NAME)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return dest / DATA_FOLDER_NAME


# Python >= 3.9.17 / 3.11.4 also sanitise modes and paths themselves; the explicit
# member check below keeps older interpreters safe too.
_EXTRACT_FILTER = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}


def _checked_members(tar, target):
    """Yield the members of `tar`, raising UnsafeArchiveError at the first unsafe one."""
    root = Path(os.path.realpath(target))
    for member in tar:
        if not (member.isfile() or member.isdir()):
            raise UnsafeArchiveError("refusing archive member %r: only plain files and folders "
                                     "are allowed" % member.name)
        resolved = Path(os.path.realpath(root / member.name))
        if os.path.isabs(member.name) or (resolved != root and root not in resolved.parents):
            raise UnsafeArchiveError("refusing archive member %r: its path leaves %s"
                                     % (member.name, root))
        yield member


def _move_into(source, final):
    """Move the unpacked folder into place, replacing an incomplete earlier copy's files."""
    if not final.exists():
        os.replace(source, final)
        return
    for entry in source.iterdir():
        target = final / entry.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        os.replace(entry, target)


if __name__ == "__main__":
    sys.exit(main())
