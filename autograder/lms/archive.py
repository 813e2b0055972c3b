"""The files of an LMS archive (a .zip as downloaded, or the folder it was unpacked into),
listed and copied with the submission stager's guards.

An LMS archive holds every student's files: its names and metadata are the LMS's, its
contents the students'. So, as in autograder/submission/unpack.py: no member with an
absolute path, '..', a backslash or NUL, no link, pipe or device (a folder is walked
without following links), a cap on the number of members, on each copied file (refused,
never truncated) and on the compression ratio; every copy goes through a byte counter.

    with Archive(path) as archive:
        for member in archive.members: ...          # Member(name, size, compressed, mtime)
        copy_member(archive, member, target, cap)   # '' or why it was refused
"""
import os
import stat
import time
import zipfile
from dataclasses import dataclass

from autograder.submission import layout
from autograder.submission.unpack import unsafe_member

CHUNK = 1024 * 1024
MAX_MEMBERS = 200000        # a class of 700 uploading ~20 files each, with room to spare
MAX_DEPTH = 6               # export folder / submission folder / a folder / nndl / file
ZIP_EPOCH = 315532800       # 1980-01-01, the earliest time a zip can record


class ArchiveError(Exception):
    """The archive cannot be read at all (not a zip or a folder, too many members)."""


@dataclass(frozen=True)
class Member:
    """One regular file of the archive: '/'-separated name from its top, sizes, and the
    modification time it records (copies keep it, so a re-extraction has the same
    fingerprint and a rerun resumes)."""
    name: str
    size: int
    compressed: int = None      # in the zip; None in a folder
    mtime: float = ZIP_EPOCH


class Archive:
    """The regular files of a .zip or a folder (links and special files skipped with a note)."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self.notes = []
        self._zip = None
        if os.path.isdir(self.path):
            self.members = self._folder_members()
        elif os.path.isfile(self.path) and zipfile.is_zipfile(self.path):
            self.members = self._zip_members()
        else:
            raise ArchiveError("%s is neither a folder nor a .zip file" % self.path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self._zip is not None:
            self._zip.close()
            self._zip = None

    def open(self, member):
        """A binary file object of the member (a folder's file is opened without following
        a link swapped in since it was listed)."""
        if self._zip is not None:
            return self._zip.open(member.name)
        fd = os.open(os.path.join(self.path, *member.name.split("/")),
                     os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise OSError("%s is not a regular file" % member.name)
        return os.fdopen(fd, "rb")

    def _zip_members(self):
        try:
            self._zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError) as error:
            raise ArchiveError("the zip %s cannot be read (%s)" % (self.path, error))
        infos = self._zip.infolist()
        if len(infos) > MAX_MEMBERS:
            self.close()
            raise ArchiveError("%s holds %d entries (at most %d are read)"
                               % (self.path, len(infos), MAX_MEMBERS))
        members = []
        for info in infos:
            problem = unsafe_member(info)
            if problem:
                self.notes.append("ignored archive entry %r: %s" % (info.filename, problem))
            elif not info.is_dir():
                members.append(Member(info.filename, info.file_size, info.compress_size,
                                      _zip_time(info)))
        return members

    def _folder_members(self):
        members, stack = [], [("", self.path, 0)]
        while stack:
            relative_dir, folder, depth = stack.pop()
            try:
                names = sorted(os.listdir(folder))
            except OSError as error:
                self.notes.append("could not list %s: %s" % (relative_dir or ".", error))
                continue
            for name in names:
                path, relative = os.path.join(folder, name), relative_dir + name
                info = os.lstat(path)
                if stat.S_ISDIR(info.st_mode) and depth < MAX_DEPTH:
                    stack.append((relative + "/", path, depth + 1))
                elif stat.S_ISREG(info.st_mode):
                    members.append(Member(relative, info.st_size, None, info.st_mtime))
                elif stat.S_ISLNK(info.st_mode):
                    self.notes.append("ignored symbolic link %s" % relative)
                if len(members) > MAX_MEMBERS:
                    raise ArchiveError("%s holds over %d files" % (self.path, MAX_MEMBERS))
        return sorted(members, key=lambda m: m.name)


def _zip_time(info):
    try:
        return max(time.mktime(info.date_time + (0, 0, -1)), ZIP_EPOCH)
    except (OverflowError, ValueError):
        return ZIP_EPOCH


def copy_member(archive, member, target, cap):
    """
    Copy the member to the path `target` (its folder is created), keeping its time; '' when
    copied, else why it was refused (over `cap` bytes, a zip bomb, unreadable): then no
    file is left at target.
    """
    if member.size > cap:
        return "larger than %d MB" % (cap // 2 ** 20)
    if (member.compressed is not None and member.size > layout.RATIO_CHECK_FROM_BYTES
            and member.size > layout.MAX_COMPRESSION_RATIO * max(member.compressed, 1)):
        return "compression ratio over %d (a zip bomb?)" % layout.MAX_COMPRESSION_RATIO
    os.makedirs(os.path.dirname(target), exist_ok=True)
    written = 0
    try:
        with archive.open(member) as src, open(target, "wb") as dst:
            while True:
                chunk = src.read(CHUNK)
                if not chunk:
                    break
                written += len(chunk)
                if written > cap:       # the header lied about the size
                    break
                dst.write(chunk)
    except (OSError, zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError) as error:
        _remove(target)
        return "could not be read (%s)" % error
    if written > cap:
        _remove(target)
        return "larger than %d MB" % (cap // 2 ** 20)
    os.utime(target, (member.mtime, member.mtime))
    return ""


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def settle_times(folder):
    """Give every folder under `folder` (itself included) the newest time of what it holds, so
    that extracting the same files again gives the same fingerprint (autograder.batch.state)."""
    newest = ZIP_EPOCH
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        info = os.lstat(path)
        if stat.S_ISDIR(info.st_mode):
            newest = max(newest, settle_times(path))
        else:
            newest = max(newest, info.st_mtime)
    os.utime(folder, (newest, newest))
    return newest
