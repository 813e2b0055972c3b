"""Pairwise similarity of a class: code (copydetect's measure) and cnn_model.npz weights.

Code: for an ordered pair (a, b), copydetect's similarity of a is the share of a's
fingerprinted tokens covered by fingerprints that b has too (copydetect.compare_files,
whose numbers a test checks these against). Comparing pairs one by one with
compare_files costs about 0.5 ms a pair, and 700 students make 245,000 pairs; so the
class's hashes are numbered once and concatenated, and one row of the comparison (what
every student shares with student i) is a few whole-array operations.
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

    @property
    def similarity(self):
        return max(self.similarity_a, self.similarity_b)


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


class ClassHashes:
    """
    Every student's fingerprints, numbered in one vocabulary and concatenated (sorted by
    student, then position), with the lines of the student's code each one spans.
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

    def present(self, i):
        vector = np.zeros(self.size, bool)
        vector[self.ids[self.bounds[i]:self.bounds[i + 1]]] = True
        return vector

    def shared_with(self, i):
        """(tokens, lines) of every student's code in fingerprints that i has too.

        Tokens as copydetect counts them (get_copied_slices, then the slices' lengths): over
        a student's shared positions in order, each adds the distance to the next one, at
        most k (a gap of k or more starts a new slice, the last adds k)."""
        selected = self.present(i)[self.ids]
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


def code_pairs(extracts, policy):
    """Pair for every two submissions with any shared fingerprint, flagged per the policy."""
    n = len(extracts)
    hashes = ClassHashes(extracts, policy.noise_tokens)
    coverage = np.array([max(e.coverage, 1) for e in extracts], np.float64)
    tokens = np.zeros((n, n), np.int64)    # tokens[i, j]: of j's code, found in i
    lines = np.zeros((n, n), np.int64)
    for i in range(n):
        tokens[i], lines[i] = hashes.shared_with(i)
        tokens[i, i] = lines[i, i] = 0
    share = tokens / coverage[None, :]
    pairs = []
    for a, b in zip(*np.nonzero(np.triu(tokens + tokens.T, 1))):
        pair = Pair(int(a), int(b), float(share[b, a]), float(share[a, b]),
                    int(tokens[b, a]), int(tokens[a, b]), int(lines[b, a]), int(lines[a, b]))
        side_tokens = pair.tokens_a if pair.similarity_a >= pair.similarity_b else pair.tokens_b
        pair.flagged = pair.similarity >= policy.threshold and \
            side_tokens >= policy.min_shared_tokens
        pairs.append(pair)
    pairs.sort(key=lambda p: (-p.similarity, p.a, p.b))
    return pairs


def pair_slices(extracts, pair, k):
    """(slices of a's code, slices of b's code) shared between the two, in raw positions."""
    a, b = extracts[pair.a], extracts[pair.b]
    return (raw_slices(a, copied_slices(a, np.isin(a.hashes, b.hashes), k)),
            raw_slices(b, copied_slices(b, np.isin(b.hashes, a.hashes), k)))


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
