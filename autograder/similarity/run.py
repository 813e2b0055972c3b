"""The similarity run of a class: stage, extract, compare, write the reports.

The class run records where each submission came from (GRADES_DIR/submissions.json), so
`python -m autograder similarity GRADES_DIR` finds them again; the files compared are
always a fresh staged copy (the same safe unpacking as grading), never the sources.

Prior work (`--against DIR` or the spec's `against`): each entry of DIR (a folder or a
.zip laid out as a submission) is read the same way under the id `prior:NAME`, compared
with every student and never with another entry of DIR.
"""
import concurrent.futures as cf
import json
import os
import shutil
import tempfile
from dataclasses import dataclass

from autograder.files import atomic
from autograder.similarity import compare, report
from autograder.similarity.extract import Extract, extract_all
from autograder.submission import SubmissionError, stage

SOURCES_FILE = "submissions.json"
PRIOR_PREFIX = "prior:"       # ids of prior work in the reports
CHUNK = 40                    # submissions staged and read by one child at a time


@dataclass
class SimilarityRun:
    ids: list
    pairs: list
    model_pairs: list
    problems: dict            # {id: [problem, ...]}
    section: str              # the summary.md section

    @property
    def flagged(self):
        return [(self.ids[p.a], self.ids[p.b]) for p in self.pairs if p.flagged]


def record_sources(grades_dir, entries):
    """Write GRADES_DIR/submissions.json: {id: absolute source path} of a class run."""
    sources = {entry.id: os.path.abspath(entry.path) for entry in entries}
    atomic.write_text(os.path.join(grades_dir, SOURCES_FILE),
                      json.dumps(sources, indent=1, sort_keys=True) + "\n")


def recorded_sources(grades_dir):
    with open(os.path.join(grades_dir, SOURCES_FILE)) as f:
        sources = json.load(f)
    if not isinstance(sources, dict):
        raise ValueError("%s is not a mapping of ids to paths" % SOURCES_FILE)
    return {str(k): str(v) for k, v in sources.items()}


def _extract_chunk(chunk, policy):
    """Extracts of [(id, source)]: each staged into a private folder, read, removed."""
    with tempfile.TemporaryDirectory(prefix="similarity-") as work:
        roots, failed = [], {}
        for n, (sid, source) in enumerate(chunk):
            root = os.path.join(work, "%d" % n)
            try:
                stage(source, root)
                roots.append(root)
            except (SubmissionError, OSError) as error:
                failed[n] = Extract(problems=["could not be staged (%s)" % error])
                shutil.rmtree(root, ignore_errors=True)
        extracts = iter(extract_all(roots, policy))
        return [failed[n] if n in failed else next(extracts) for n in range(len(chunk))]


def extract_class(sources, policy, jobs=1):
    """[Extract] in the order of `sources` ([(id, path)]), `jobs` chunks at a time."""
    chunks = [sources[i:i + CHUNK] for i in range(0, len(sources), CHUNK)]
    with cf.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        parts = list(pool.map(lambda chunk: _extract_chunk(chunk, policy), chunks))
    return [extract for part in parts for extract in part]




def against_folder(policy, spec_path=None, override=None):
    """The prior-work folder: `override` (the command line), else the spec's `against`
    relative to the spec file; None when neither names one."""
    if override:
        return os.path.abspath(override)
    if policy.against:
        from autograder.spec import SPEC_PATH
        base = os.path.dirname(os.path.abspath(spec_path or SPEC_PATH))
        return os.path.join(base, policy.against)
    return None


def run_similarity(grades_dir, sources, policy, jobs=1, prior=None):
    """Compare every two of `sources` ({id: path}), and each with the prior work `prior`
    ({prior id: path}); write similarity.csv/.html, return the run."""
    prior = prior or {}
    ids = sorted(sources) + sorted(prior)
    everything = dict(sources, **prior)
    extracts = extract_class([(sid, everything[sid]) for sid in ids], policy, jobs)
    comparison = compare.compare_class(extracts, policy, prior=len(prior))
    pairs = comparison.pairs
    class_extracts = extracts[:len(sources)]   # cnn_model.npz: within the class only
    model_pairs = compare.model_pairs(class_extracts, policy)
    problems = {sid: e.problems for sid, e in zip(ids, extracts) if e.problems}
    atomic.write_text(os.path.join(grades_dir, report.CSV_FILE),
                      report.similarity_csv(ids, extracts, pairs, policy,
                                            comparison.common_function_hashes))
    atomic.write_text(os.path.join(grades_dir, report.HTML_FILE),
                      report.similarity_html(ids, extracts, comparison, model_pairs, problems,
                                             policy))
    section = report.summary_section(ids, pairs, model_pairs, problems, policy, len(prior))
    return SimilarityRun(ids, pairs, model_pairs, problems, section)


def add_to_summary(grades_dir, section, summary_file="summary.md"):
    """Put the similarity section into GRADES_DIR/summary.md (replacing an older one)."""
    path = os.path.join(grades_dir, summary_file)
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        text = "# Class summary\n"
    atomic.write_text(path, report.replace_section(text, section))
