"""Copy the files the grader needs out of a submission (folder or .zip) into a private folder.

Only the names in layout.wanted() are copied; everything else is ignored. The copy
never follows a symlink, never writes outside the destination, and refuses a file
over its size cap instead of truncating it. A zip is checked as a whole first
(member count) and member by member (absolute paths, '..', symlinks, compression
ratio), and every member is decompressed through a byte counter, so a header that
lies about sizes cannot make it write more than the cap.
"""
import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from autograder.submission import layout

CHUNK = 1024 * 1024
KIT_PACKAGES = ("cs231n", "autograder")


class SubmissionError(Exception):
    """The submission cannot be read at all (not a folder or a valid zip, too many members)."""


@dataclass
class Staged:
    """The outcome of staging: what was copied, and what was ignored or refused and why."""
    root: str
    copied: list = field(default_factory=list)      # relative paths, '/'-separated
    notes: list = field(default_factory=list)       # one line each, for the student
    damaged: list = field(default_factory=list)     # wanted zip members that could not be read


def stage(source, dest):
    """
    Copy the wanted files of `source` (a folder or a .zip file) into the empty folder `dest`.

    Returns a Staged; raises SubmissionError if the source cannot be read at all.
    """
    source = os.fspath(source)
    os.makedirs(dest, exist_ok=True)
    staged = Staged(root=os.fspath(dest))
    if os.path.isdir(source):
        entries = _folder_entries(source, staged)
    elif os.path.isfile(source) and zipfile.is_zipfile(source):
        return _stage_zip(source, staged)
    elif os.path.isfile(source):
        raise SubmissionError("%s is neither a folder nor a .zip file" % os.path.basename(source))
    else:
        raise SubmissionError("%s does not exist" % source)
    prefix = _root_prefix([name for name, _ in entries])
    relatives = [_strip(name, prefix) for name, _ in entries]
    _note_shipped_kit(relatives, staged)
    renamed = _flat_upload(relatives, staged)
    for name, path in entries:
        relative = _strip(name, prefix)
        relative = renamed.get(relative, relative)
        if relative is None or layout.wanted(relative) is None:
            continue
        with _open_no_follow(path) as src:
            _copy_capped(src, relative, staged)
    return staged


def holds_model(source):
    """True if staging `source` (a folder or a .zip) would find its model file, by the same
    root rules as stage(); nothing is copied or decompressed. False when it cannot be read."""
    source = os.fspath(source)
    try:
        if os.path.isdir(source):
            names = [name for name, _ in _folder_entries(source, Staged(root=""))]
        elif os.path.isfile(source) and zipfile.is_zipfile(source):
            with zipfile.ZipFile(source) as archive:
                names = [info.filename for info in archive.infolist() if not info.is_dir()]
        else:
            return False
    except (OSError, zipfile.BadZipFile):
        return False
    prefix = _root_prefix(names)
    return any(_strip(name, prefix) == layout.MODEL_FILE for name in names)


def _stage_zip(source, staged):
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as error:
        raise SubmissionError("the zip file cannot be read (%s)" % error)
    with archive:
        members = archive.infolist()
        if len(members) > layout.MAX_ZIP_MEMBERS:
            raise SubmissionError("the zip holds %d entries (at most %d are accepted)"
                                  % (len(members), layout.MAX_ZIP_MEMBERS))
        safe = []
        for info in members:
            problem = unsafe_member(info)
            if problem:
                staged.notes.append("ignored zip entry %r: %s" % (info.filename, problem))
            elif not info.is_dir():
                safe.append(info)
        prefix = _root_prefix([info.filename for info in safe])
        relatives = [_strip(info.filename, prefix) for info in safe]
        _note_shipped_kit(relatives, staged)
        renamed = _flat_upload(relatives, staged)
        for info in safe:
            relative = _strip(info.filename, prefix)
            relative = renamed.get(relative, relative)
            if relative is None:
                continue
            cap = layout.wanted(relative)
            if cap is None:
                continue
            if (info.file_size > layout.RATIO_CHECK_FROM_BYTES
                    and info.file_size > layout.MAX_COMPRESSION_RATIO * max(info.compress_size, 1)):
                staged.notes.append("refused %s: compression ratio over %d (a zip bomb?)"
                                    % (relative, layout.MAX_COMPRESSION_RATIO))
                continue
            try:
                with archive.open(info) as src:
                    _copy_capped(src, relative, staged)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError,
                    RuntimeError) as error:
                staged.notes.append("could not extract %s: %s" % (relative, error))
                staged.damaged.append("%s (%s)" % (relative, error))
    return staged


def _flat_upload(relatives, staged):
    """layout.flat_upload's renaming, said to the student when it applies."""
    renamed = layout.flat_upload(relatives)
    if renamed:
        staged.notes.append("%s came without their nndl/ folder: graded as if they were in "
                            "nndl/" % ", ".join(sorted(renamed)))
    return renamed


def _note_shipped_kit(relatives, staged):
    """Say so when the submission ships its own copy of a kit package (it is never used)."""
    for package in KIT_PACKAGES:
        if any(r and r.split("/")[0] == package for r in relatives):
            staged.notes.append("ignored the submitted %s/ folder: the grader always uses the "
                                "kit's own %s" % (package, package))


def unsafe_member(info):
    """Why a zip member must not be extracted, or '' if it is harmless (also used for the
    LMS archives a class comes in: autograder/lms)."""
    name = info.filename
    mode = info.external_attr >> 16
    if name.startswith("/") or name.startswith("\\") or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    if "\\" in name:
        return "backslash in the path"
    if any(part == ".." for part in name.split("/")):
        return "'..' in the path"
    if "\x00" in name:
        return "NUL in the path"
    kind = stat.S_IFMT(mode)  # 0 when the zip tool recorded permission bits only
    if kind and stat.S_ISLNK(mode):
        return "symbolic link"
    if kind and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return "not a regular file"
    return ""


def _folder_entries(source, staged):
    """(relative name, absolute path) of the regular files at depth <= 3 under source; no symlinks."""
    entries = []
    stack = [("", source, 0)]
    while stack:
        relative_dir, folder, depth = stack.pop()
        try:
            names = sorted(os.listdir(folder))
        except OSError as error:
            staged.notes.append("could not list %s: %s" % (relative_dir or ".", error))
            continue
        for name in names:
            path = os.path.join(folder, name)
            relative = relative_dir + name
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                if _strip_any(relative):
                    staged.notes.append("ignored symbolic link %s" % relative)
                continue
            if stat.S_ISDIR(info.st_mode) and depth < 2:
                stack.append((relative + "/", path, depth + 1))
            elif stat.S_ISREG(info.st_mode):
                entries.append((relative, path))
    return entries


def _strip_any(relative):
    """True if relative would be wanted at the top or under one top folder."""
    parts = relative.split("/")
    return layout.wanted(relative) is not None or (
        len(parts) > 1 and layout.wanted("/".join(parts[1:])) is not None)


def _root_prefix(names):
    """
    The folder (with trailing '/', or '') the submission's files sit in: the top
    level if it holds any wanted file, else the one top folder that does.
    """
    names = [n for n in names if not _ignored_top(n)]
    if any(layout.wanted(n) is not None for n in names):
        return ""
    tops = {}
    for name in names:
        parts = name.split("/", 1)
        if len(parts) == 2 and layout.wanted(parts[1]) is not None:
            tops.setdefault(parts[0], 0)
            tops[parts[0]] += 1
    if len(tops) == 1:
        return next(iter(tops)) + "/"
    if tops:
        # Several candidate folders: take the one with the most wanted files, ties by name.
        return sorted(tops.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] + "/"
    return ""


def _ignored_top(name):
    top = name.split("/", 1)[0]
    return top in layout.IGNORED_TOP_NAMES or top.startswith(".")


def _strip(name, prefix):
    if not name.startswith(prefix):
        return None
    relative = name[len(prefix):]
    return str(PurePosixPath(relative)) if relative else None


class _open_no_follow:
    """open(path, 'rb') that fails on a symlink swapped in after listing."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        self.file = os.fdopen(self.fd, "rb")

    def __enter__(self):
        return self.file

    def __exit__(self, *exc):
        self.file.close()


def _copy_capped(src, relative, staged):
    """Copy src into staged.root/relative, refusing (and removing) it past its cap."""
    cap = layout.wanted(relative)
    used = sum(os.path.getsize(os.path.join(staged.root, r)) for r in staged.copied)
    cap = min(cap, layout.MAX_TOTAL_BYTES - used)
    target = os.path.join(staged.root, *relative.split("/"))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    written = 0
    with open(target, "wb") as dst:
        while True:
            chunk = src.read(CHUNK)
            if not chunk:
                break
            written += len(chunk)
            if written > cap:
                break
            dst.write(chunk)
    if written > cap:
        os.remove(target)
        staged.notes.append("refused %s: larger than %d MB" % (relative, max(cap, 0) // 2 ** 20))
        return
    staged.copied.append(relative)
