"""Pairwise similarity of a class: graded functions, whole files, cnn_model.npz weights.

Shared by many is boilerplate: a fingerprint found in more than the policy's common_share
of the class (and in at least common_min submissions) is what everyone was given or copied
from the notebook (an earlier release's template, helper modules of earlier homeworks),
so it counts for no one, exactly like the release's own stubs.

Graded functions (the primary measure): for an ordered pair (a, b), the share of the
k-grams of a's graded functions (functions.py: what a wrote between the stub's set-up and
its return, names normalised) that b's same functions have too; the report lists each
function's share. A pair where either side has a module Python cannot parse, or no graded
function written, is measured by whole files instead, and says so.

Whole files (the secondary figure): copydetect's similarity of a is the share of a's
fingerprinted tokens covered by fingerprints that b has too (copydetect.compare_files,
whose numbers a test checks these against, when nothing is common). Comparing pairs one
by one costs about 0.5 ms a pair, and 700 students make 245,000 pairs; so the class's
hashes are numbered once and concatenated, and one row of the comparison (what every
student shares with student i) is a few whole-array operations.

Prior work: the last `prior` extracts are a corpus of earlier submissions or public
solutions; each is compared with every student, never with another corpus entry, and
does not count towards what is common.
"""
from dataclasses import dataclass

import numpy as np


@dataclass
class Pair:
    """Two submissions (a < b by index): share of each one's code found in the other."""
    a: int
    b: int
    similarity_a: float      # share of a's code found in b
    similarity_b: float
    tokens_a: int            # tokens of a's code in shared fingerprints
    tokens_b: int
    lines_a: int = 0         # lines of a's code those tokens touch
    lines_b: int = 0
    flagged: bool = False
    function_a: float = 0.0  # share of a's graded functions' k-grams found in b's
    function_b: float = 0.0
    function_shared: int = 0  # k-grams of graded functions the two share
    by_tokens: str = ""      # why the pair is measured by whole files ("": by functions)

    @property
    def file_similarity(self):
        return max(self.similarity_a, self.similarity_b)

    @property
    def similarity(self):
        """The primary measure: graded functions, or whole files when by_tokens says why."""
        if self.by_tokens:
            return self.file_similarity
        return max(self.function_a, self.function_b)


@dataclass
class FunctionMatch:
    """One graded function in a pair: k-grams shared, and the share of each side's."""
    name: str
    shared: int
    share_a: float
    share_b: float

    @property
    def share(self):
        return max(self.share_a, self.share_b)


@dataclass
class ModelPair:
    a: int
    b: int
    identical: bool
    relative_distance: float


def copied_slices(extract, shared_mask, k):
    """copydetect's slices (2 x N) of extract's filtered code in the shared hashes."""
    from copydetect.utils import get_copied_slices
    return np.asarray(get_copied_slices(extract.positions[shared_mask], k), np.int64)


def raw_positions(extract, positions):
    """Filtered positions -> positions in extract.code, as copydetect.compare_files maps them."""
    offsets = extract.offsets
    positions = np.asarray(positions, np.int64)
    if not positions.size or not len(offsets):
        return positions
    return positions + offsets[:, 1][np.clip(np.searchsorted(offsets[:, 0], positions), 0,
                                             offsets.shape[0] - 1)]


def raw_slices(extract, slices):
    return raw_positions(extract, slices).reshape(slices.shape) if slices.size else slices


def common_mask(ids, owner, size, n_class, policy):
    """Per id of a vocabulary of `size`: True when held by more than common_share of the
    n_class class submissions and by at least common_min of them (corpus entries, owners
    from n_class on, do not count)."""
    held = np.unique(owner[owner < n_class].astype(np.int64) * max(size, 1) +
                     ids[owner < n_class])
    counts = np.bincount(held % max(size, 1), minlength=size) if size else np.zeros(0, int)
    return (counts > policy.common_share * n_class) & (counts >= policy.common_min)


class ClassHashes:
    """
    Every student's fingerprints, numbered in one vocabulary and concatenated (sorted by
    student, then position), with the lines of the student's code each one spans.
    `common` (set by drop_common) marks ids that count for no one.
    """

    def __init__(self, extracts, k):
        self.n, self.k = len(extracts), k
        parts = [np.argsort(e.positions, kind="stable") for e in extracts]
        hashes = [e.hashes[order] for e, order in zip(extracts, parts)]
        positions = [e.positions[order] for e, order in zip(extracts, parts)]
        all_hashes = np.concatenate(hashes or [np.zeros(0, np.int64)])
        _, self.ids = np.unique(all_hashes, return_inverse=True)
        self.ids = self.ids.ravel()
        self.size = int(self.ids.max()) + 1 if self.ids.size else 0
        self.positions = np.concatenate(positions or [np.zeros(0, np.int64)])
        self.owner = np.repeat(np.arange(self.n), [len(h) for h in hashes])
        first_lines, last_lines = [], []
        for extract, where in zip(extracts, positions):
            newlines = np.flatnonzero(np.frombuffer(extract.code.encode("utf-32-le"),
                                                    np.uint32) == 10)
            first_lines.append(np.searchsorted(newlines, raw_positions(extract, where)))
            last_lines.append(np.searchsorted(newlines, raw_positions(extract, where + k) - 1))
        self.first_line = np.concatenate(first_lines or [np.zeros(0, np.int64)])
        self.last_line = np.concatenate(last_lines or [np.zeros(0, np.int64)])
        self.bounds = np.cumsum([0] + [len(h) for h in hashes])
        self.hash_values = np.unique(all_hashes)
        self.common = np.zeros(self.size, bool)

    def drop_common(self, n_class, policy):
        """Mark the fingerprints shared by many; returns the tokens each student's coverage
        loses: those only common fingerprints cover (token counts are the union of the
        fingerprints' k-token windows, so a student's shared tokens never pass what is left)."""
        self.common = common_mask(self.ids, self.owner, self.size, n_class, policy)
        everything = self._tokens_and_lines(np.ones(len(self.ids), bool))[0]
        return everything - self._tokens_and_lines(~self.common[self.ids])[0]

    @property
    def common_hashes(self):
        return self.hash_values[self.common]

    def present(self, i):
        vector = np.zeros(self.size, bool)
        vector[self.ids[self.bounds[i]:self.bounds[i + 1]]] = True
        vector[self.common] = False
        return vector

    def shared_with(self, i):
        """(tokens, lines) of every student's code in fingerprints that i has too."""
        return self._tokens_and_lines(self.present(i)[self.ids])

    def _tokens_and_lines(self, selected):
        """(tokens, lines) of every student's code in the selected fingerprints.

        Tokens as copydetect counts them (get_copied_slices, then the slices' lengths): over
        a student's shared positions in order, each adds the distance to the next one, at
        most k (a gap of k or more starts a new slice, the last adds k)."""
        owner, positions = self.owner[selected], self.positions[selected]
        first, last = self.first_line[selected], self.last_line[selected]
        same = np.zeros(len(owner), bool)
        same[1:] = owner[1:] == owner[:-1]
        step = np.full(len(owner), self.k, np.int64)
        if len(owner) > 1:
            follows = owner[:-1] == owner[1:]
            step[:-1] = np.where(follows, np.minimum(np.diff(positions), self.k), self.k)
        tokens = np.bincount(owner, weights=step, minlength=self.n)
        # lines: each fingerprint's span [first, last]; spans only grow in order, so the
        # union adds what lies past the previous span of the same student
        previous = np.where(same, np.concatenate([[-1], last[:-1]]), -1)
        new_lines = np.maximum(0, last - np.maximum(first - 1, previous))
        lines = np.bincount(owner, weights=new_lines, minlength=self.n)
        return tokens.astype(np.int64), lines.astype(np.int64)


class FunctionHashes:
    """Every student's graded-function k-grams (distinct, named by function), in one
    vocabulary; the ones shared by many marked common and left out of everything."""

    def __init__(self, extracts, n_class, policy):
        self.n = len(extracts)
        per_student = [np.unique(np.concatenate([f.hashes for f in e.functions]))
                       if e.functions else np.zeros(0, np.int64) for e in extracts]
        all_hashes = np.concatenate(per_student or [np.zeros(0, np.int64)])
        values, ids = np.unique(all_hashes, return_inverse=True)
        ids = ids.ravel()
        owner = np.repeat(np.arange(self.n), [len(h) for h in per_student])
        common = common_mask(ids, owner, len(values), n_class, policy)
        self.common_hashes = values[common]
        keep = ~common[ids]
        self.ids, self.owner, self.size = ids[keep], owner[keep], len(values)
        self.sizes = np.bincount(self.owner, minlength=self.n)   # k-grams each one wrote

    def shared_with(self, i):
        """k-grams of graded functions every student shares with student i."""
        present = np.zeros(self.size, bool)
        present[self.ids[self.owner == i]] = True
        return np.bincount(self.owner[present[self.ids]], minlength=self.n)


@dataclass
class ClassComparison:
    """What code_pairs found, and the fingerprints it treated as common (for the report)."""
    pairs: list
    common_file_hashes: np.ndarray
    common_function_hashes: np.ndarray
    prior: int = 0


def _by_tokens(a, b):
    """Why the pair (two Extracts) is measured by whole files ('' when by functions)."""
    for extract in (a, b):
        if extract.unparsed:
            return "%s does not parse" % ", ".join(extract.unparsed)
    if not a.functions or not b.functions:
        return "no graded function written on one side"
    return ""


def compare_class(extracts, policy, prior=0):
    """ClassComparison of every two submissions with anything in common (the last `prior`
    extracts are prior work: compared with the class, not with each other), flagged per
    the policy, ranked by the primary measure."""
    n = len(extracts)
    n_class = n - prior
    hashes = ClassHashes(extracts, policy.noise_tokens)
    common_tokens = hashes.drop_common(n_class, policy)
    coverage = np.array([max(e.coverage - c, 1) for e, c in zip(extracts, common_tokens)],
                        np.float64)
    functions = FunctionHashes(extracts, n_class, policy)
    tokens = np.zeros((n, n), np.int64)    # tokens[i, j]: of j's code, found in i
    lines = np.zeros((n, n), np.int64)
    shared = np.zeros((n, n), np.int64)    # shared[i, j]: graded-function k-grams in both
    for i in range(n):
        tokens[i], lines[i] = hashes.shared_with(i)
        shared[i] = functions.shared_with(i)
        tokens[i, i] = lines[i, i] = shared[i, i] = 0
    share = tokens / coverage[None, :]
    written = np.maximum(functions.sizes, 1).astype(np.float64)
    related = np.triu(tokens + tokens.T + shared, 1)
    related[n_class:, n_class:] = 0
    pairs = []
    for a, b in zip(*np.nonzero(related)):
        pair = Pair(int(a), int(b), float(share[b, a]), float(share[a, b]),
                    int(tokens[b, a]), int(tokens[a, b]), int(lines[b, a]), int(lines[a, b]),
                    function_a=float(shared[a, b] / written[a]),
                    function_b=float(shared[a, b] / written[b]),
                    function_shared=int(shared[a, b]),
                    by_tokens=_by_tokens(extracts[a], extracts[b]))
        if pair.by_tokens:
            side_tokens = pair.tokens_a if pair.similarity_a >= pair.similarity_b \
                else pair.tokens_b
            enough = side_tokens >= policy.min_shared_tokens
        else:
            enough = pair.function_shared >= policy.min_function_tokens
        pair.flagged = pair.similarity >= policy.threshold and enough
        pairs.append(pair)
    pairs.sort(key=lambda p: (-p.similarity, p.a, p.b))
    return ClassComparison(pairs, hashes.common_hashes, functions.common_hashes, prior)


def code_pairs(extracts, policy, prior=0):
    """The pairs of compare_class (ranked, flagged)."""
    return compare_class(extracts, policy, prior).pairs


def function_matches(a, b, common=()):
    """[FunctionMatch] of the graded functions both Extracts wrote, best first."""
    common = np.asarray(common, np.int64)
    theirs = {f.name: f for f in b.functions}
    found = []
    for mine in a.functions:
        other = theirs.get(mine.name)
        if other is None:
            continue
        ha = np.setdiff1d(mine.hashes, common)
        hb = np.setdiff1d(other.hashes, common)
        both = len(np.intersect1d(ha, hb))
        found.append(FunctionMatch(mine.name, both, both / max(len(ha), 1),
                                   both / max(len(hb), 1)))
    found.sort(key=lambda m: (-m.share, m.name))
    return found


def matched_lines(function, other, k, common=()):
    """Lines (1-based, of function.source) that the k-grams `function` shares with `other`
    (two FunctionPrints) cover."""
    hashes = np.asarray(function.hashes, np.int64)
    hit = np.isin(hashes, other.hashes) & ~np.isin(hashes, np.asarray(common, np.int64))
    lines = np.asarray(function.lines)
    covered = set()
    for start in np.flatnonzero(hit):
        covered.update(int(x) for x in lines[start:start + k])
    return covered


def pair_slices(extracts, pair, k, common=()):
    """(slices of a's code, slices of b's code) shared between the two, in raw positions
    (fingerprints in `common` left out)."""
    a, b = extracts[pair.a], extracts[pair.b]
    common = np.asarray(common, np.int64)
    in_a = np.isin(a.hashes, b.hashes) & ~np.isin(a.hashes, common)
    in_b = np.isin(b.hashes, a.hashes) & ~np.isin(b.hashes, common)
    return (raw_slices(a, copied_slices(a, in_a, k)), raw_slices(b, copied_slices(b, in_b, k)))


def lines_in(code, slices):
    """How many lines of `code` the slices (raw positions) touch."""
    if not slices.shape[1]:
        return 0
    newlines = np.flatnonzero(np.frombuffer(code.encode("utf-32-le"), np.uint32) == 10)
    first = np.searchsorted(newlines, slices[0])
    last = np.searchsorted(newlines, slices[1] - 1)
    touched = np.zeros(len(newlines) + 2, np.int64)
    np.add.at(touched, first, 1)
    np.add.at(touched, last + 1, -1)
    return int(np.count_nonzero(np.cumsum(touched)[:-1]))


def model_pairs(extracts, policy):
    """ModelPair for every two models of one layout that are identical or within the distance."""
    groups = {}
    for index, extract in enumerate(extracts):
        if extract.model is not None and len(extract.model["sample"]):
            key = repr(extract.model["layout"])
            groups.setdefault(key, []).append(index)
    found = []
    for members in groups.values():
        if len(members) < 2:
            continue
        samples = np.stack([extracts[i].model["sample"] for i in members]).astype(np.float64)
        samples = np.nan_to_num(samples, nan=0.0, posinf=0.0, neginf=0.0)
        norms = np.linalg.norm(samples, axis=1)
        squared = norms[:, None] ** 2 + norms[None, :] ** 2 - 2 * samples @ samples.T
        distance = np.sqrt(np.maximum(squared, 0)) / np.maximum(
            np.maximum(norms[:, None], norms[None, :]), 1e-30)
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                a, b = members[x], members[y]
                identical = extracts[a].model["digest"] == extracts[b].model["digest"]
                if identical or distance[x, y] <= policy.model_rel_distance:
                    found.append(ModelPair(a, b, identical, 0.0 if identical
                                           else float(distance[x, y])))
    return found
