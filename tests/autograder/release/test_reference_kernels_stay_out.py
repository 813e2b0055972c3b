"""The reference's compiled kernels (solutions/nndl/_reference_kernels.pyx: a complete Adam
step and the batchnorm gradient formula, the students' homework) never reach the release:
no file of the extension (.pyx, the generated .c, the built .so) is written, and no stub
names the module (its imports lie inside the stripped solution blocks)."""
from pathlib import Path

from autograder.release.build import CS231N_SUFFIXES, tree_files
from autograder.release.stubs import generate_stubs, stub_source

REPO_ROOT = Path(__file__).resolve().parents[3]
REFERENCE = REPO_ROOT / "solutions" / "nndl"
RELEASE = REPO_ROOT / "release"
MODULE = "_reference_kernels"
EXTENSION_FILES = (MODULE + ".pyx", MODULE + ".c", MODULE + ".cpython-311-x86_64-linux-gnu.so")


def test_the_reference_uses_the_kernels_and_their_stubs_do_not():
    for name in ("layers.py", "optim.py"):
        source = (REFERENCE / name).read_text()
        assert MODULE in source  # else this test checks nothing
        assert MODULE not in stub_source(source, "nndl/" + name)
    assert (REFERENCE / (MODULE + ".pyx")).is_file()


def test_the_stubs_of_the_reference_folder_hold_no_file_of_the_extension(tmp_path):
    # a copy of the reference folder with every file of a build beside the sources
    reference = tmp_path / "reference" / "nndl"
    reference.mkdir(parents=True)
    for path in REFERENCE.glob("*.py"):
        (reference / path.name).write_text(path.read_text())
    for name in EXTENSION_FILES:
        (reference / name).write_text("%s: built from the reference\n" % MODULE)
    written = generate_stubs(reference, tmp_path / "release" / "nndl")
    names = sorted(p.name for p in (tmp_path / "release" / "nndl").iterdir())
    assert names == sorted(p.name for p in written) == sorted(p.name for p in REFERENCE.glob("*.py"))
    for path in written:
        assert MODULE not in path.read_text(), path.name


def test_the_extension_is_no_file_the_cs231n_copy_takes():
    # the release copies cs231n files by suffix: the reference's extension must not sit there
    assert not [p for p in (REPO_ROOT / "assignment").rglob(MODULE + "*")
                if p.name.endswith(CS231N_SUFFIXES + (".so", ".c"))]


def test_the_committed_release_names_no_file_or_import_of_the_extension():
    files = tree_files(RELEASE)
    assert len(files) > 20 and "nndl/layers.py" in files
    assert [f for f in files if MODULE in f] == []
    for relpath in files:
        if Path(relpath).suffix in (".npz", ".zip", ".so"):
            continue
        assert MODULE not in (RELEASE / relpath).read_text(errors="replace"), relpath
