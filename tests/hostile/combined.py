"""Every attack class of tests/hostile as one class folder, for one class run (issue 11).

The attacks come from their own modules (sandbox_attacks: links, FIFOs, forged reply
frames, filling /tmp and the work folder, every CIFAR-10 copy; exposure_attacks: nested,
huge and markup notebooks, 40 MB messages, names in any encoding; corpus: the first hostile
corpus; accuracy_attacks: lookup tables and the near-duplicate search; the timing variants
of tests/autograder/grade/test_timing_integrity.py: a patched clock, an input cache, a
replaced timed call; channel_attacks: a writer leaving a marker everywhere it can, a reader
searching for it, issue 22). Each becomes an Expectation over the run's items (ITEMS).
"""
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from tests.autograder.grade import helpers
from tests.hostile import (accuracy_attacks, channel_attacks, corpus, exposure_attacks,
                           sandbox_attacks)

TIMING = "cnn.ThreeLayerConvNet.loss.timing"
ITEMS = corpus.CI_ITEMS + "," + TIMING
EVERY_ITEM = corpus.ALL + (TIMING,)


@dataclass
class Expectation:
    name: bytes             # the submission's name in the class folder (any bytes)
    what: str
    zero: tuple = ()        # items that must score 0
    full: tuple = ()        # items that must keep full marks
    message: str = ""       # a regular expression its results.json must hold
    evaluation: str = None  # the accuracy item's heldout_evaluation, when it matters
    review: bool = None     # the accuracy item's needs_review, when it matters

    @property
    def shown(self):
        """How the reports name it."""
        return exposure_attacks.display_name(self.name)


def _points():
    """'Score: 42 / 42' over the CI items becomes the run's full score (the timing item too)."""
    from autograder.spec import load_spec
    total = corpus.CI_POINTS + int(load_spec().item(TIMING).points)
    return "Score: %d / %d" % (corpus.CI_POINTS, corpus.CI_POINTS), "Score: %d / %d" % (total, total)


def _from_case(case):
    return Expectation(os.fsencode(case.name), case.what, tuple(case.zero), tuple(case.full),
                       case.message.replace(*_points()))


def _from_attack(attack):
    return Expectation(attack.name, attack.what, tuple(attack.zero), tuple(attack.full),
                       attack.message.replace(*_points()))


def timing_attacks(dest, model):
    """(name, message) of the timing variants, written into dest with the model."""
    from tests.autograder.grade import test_timing_integrity as timing_variants
    out = []
    for name, message in (("fake_clock", r"times the reference"),
                          ("input_cache", r"times the reference"),
                          ("fake_timed_call", r"did not follow the reference's")):
        folder = helpers.reference_submission(Path(dest) / ("timing_" + name), model=model)
        helpers.replace_function(folder, "cnn", timing_variants.VARIANTS[name])
        out.append(("timing_" + name, message))
    return out


def build(dest, model, aims, targets, cifar10_dir, small=False):
    """Write the attacks into the class folder `dest`; returns the Expectations.
    small: one attack of each class (the CI run)."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    sandbox = sandbox_attacks.build(str(dest), model, aims)
    exposure = exposure_attacks.build(dest, model)
    hostile = corpus.build(dest / "corpus_tmp", model, targets, big_files=not small)
    expectations = [_from_case(c) for c in sandbox] + [_from_attack(a) for a in exposure]
    # the first corpus is built in a folder of its own and moved beside the others
    for case in hostile:
        os.rename(dest / "corpus_tmp" / case.name, dest / case.name)
        expectations.append(_from_case(case))
    os.rmdir(dest / "corpus_tmp")

    for name, message in timing_attacks(dest, model):
        expectations.append(Expectation(os.fsencode(name), "timing: " + name, zero=(TIMING,),
                                        full=(corpus.CONV, corpus.POOL, corpus.SOFTMAX),
                                        message=message))

    others = (corpus.CONV, corpus.POOL, corpus.SOFTMAX, corpus.CNN_FORWARD)
    # the search also answers the forward item's CIFAR-sized case: that item is lost too
    accuracy_attacks.submission(dest / "lookup_table", cifar10_dir, search=False, lookup=True,
                                known_splits=("val", "test"))
    expectations.append(Expectation(b"lookup_table", "a table of every published image",
                                    zero=(corpus.ACCURACY,), full=others,
                                    message=r"much lower than on the validation split",
                                    evaluation="student-code", review=True))
    accuracy_attacks.submission(dest / "near_duplicate", cifar10_dir, search=True)
    expectations.append(Expectation(b"near_duplicate", "a near-duplicate search of the public "
                                    "test batch, reference-shaped chance weights",
                                    zero=(corpus.ACCURACY,), full=others[:3],
                                    message=r"classified by the course's reference",
                                    evaluation="trusted", review=False))
    accuracy_attacks.submission(dest / "near_duplicate_own_model", cifar10_dir, search=True,
                                lookup=True, extra=True)
    expectations.append(Expectation(b"near_duplicate_own_model", "a near-duplicate search and "
                                    "a validation table, a model the reference cannot rebuild",
                                    full=others[:3], message=r"the course staff will review",
                                    evaluation="student-code", review=True))
    # Named so the writer sorts (and is graded) before the reader.
    for role, name, message in (
            ("writer", "channel_1_writer", r"CHANNEL WRITER stored: abstract unix socket, "
                                           r"daemon process"),
            ("reader", "channel_2_reader", r"CHANNEL READER searched \d+ places, found: nothing"),
            ("self_check", "channel_3_self_check", r"CHANNEL SELF-CHECK stored \d+ places, "
                                                   r"missed: nothing")):
        channel_attacks.submission(dest / name, model, role, targets.token)
        expectations.append(Expectation(os.fsencode(name), "no channel between submissions: "
                                        "the " + role, message=message,
                                        **channel_attacks.IN_FUNCTION))
    if small:
        keep = {b"links_everywhere", b"fifos_everywhere", b"forged_short_reply", b"fill_tmp",
                b"reads_every_cifar_copy", b"deep_notebook", b"markup_notebook",
                b"caf\xe9 \xff\xfe", b"write_outside", b"timing_fake_clock", b"lookup_table",
                b"near_duplicate", b"near_duplicate_own_model", b"channel_1_writer",
                b"channel_2_reader", b"+1+1"}
        for expectation in [e for e in expectations if e.name not in keep]:
            _remove(dest, expectation.name)
        expectations = [e for e in expectations if e.name in keep]
    return expectations


def _remove(dest, name):
    path = os.path.join(os.fsencode(str(dest)), name)
    if os.path.isdir(path):
        shutil.rmtree(path)
    else:
        os.remove(path)
