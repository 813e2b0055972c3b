"""Pairwise similarity of a class: code (copydetect's measure) and cnn_model.npz weights.

Code: for an ordered pair (a, b), copydetect's similarity of a is the share of a's
fingerprinted tokens covered by fingerprints that b has too (copydetect.compare_files;
the slices come from copydetect.utils.get_copied_slices). Comparing all pairs one by
one with compare_files costs about 0.5 ms a pair (250,000 pairs for 700 students), so
the hashes are numbered once for the whole class and each student's set is a boolean
vector: the hashes of b that a shares are one indexing operation, and pairs that share
no hash are skipped.
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


def raw_slices(extract, slices):
    """Filtered positions -> positions in extract.code, as copydetect.compare_files maps them."""
    offsets = extract.offsets
    if not slices.shape[1] or not len(offsets):
        return slices
    return slices + offsets[:, 1][np.clip(np.searchsorted(offsets[:, 0], slices), 0,
                                          offsets.shape[0] - 1)]


class ClassHashes:
    """Every student's hashes numbered in one vocabulary, for fast shared-hash masks."""

    def __init__(self, extracts):
        self.extracts = extracts
        all_hashes = np.concatenate([e.hashes for e in extracts] or [np.zeros(0, np.int64)])
        _, inverse = np.unique(all_hashes, return_inverse=True)
        self.size = int(inverse.max()) + 1 if inverse.size else 0
        bounds = np.cumsum([0] + [len(e.hashes) for e in extracts])
        self.ids = [inverse[bounds[i]:bounds[i + 1]] for i in range(len(extracts))]
        self.unique = [np.unique(ids) for ids in self.ids]
        self.unique_all = np.concatenate(self.unique or [np.zeros(0, np.int64)])
        self.owner = np.repeat(np.arange(len(extracts)), [len(u) for u in self.unique])

    def present(self, i):
        vector = np.zeros(self.size, bool)
        vector[self.unique[i]] = True
        return vector

    def shared_counts(self, present):
        """For every student, how many distinct hashes it shares with `present`."""
        return np.bincount(self.owner[present[self.unique_all]], minlength=len(self.extracts))

    def mask(self, present, j):
        """Which of j's hash positions are in `present`."""
        return present[self.ids[j]]


def code_pairs(extracts, policy):
    """Pair for every two submissions with any shared fingerprint, flagged per the policy."""
    k = policy.noise_tokens
    n = len(extracts)
    hashes = ClassHashes(extracts)
    share = np.zeros((n, n))       # share[i, j]: share of j's code found in i
    tokens = np.zeros((n, n), np.int64)
    for i in range(n):
        present = hashes.present(i)
        counts = hashes.shared_counts(present)
        for j in np.flatnonzero(counts):
            if j == i or not extracts[j].coverage:
                continue
            slices = copied_slices(extracts[j], hashes.mask(present, j), k)
            tokens[i, j] = int(np.sum(slices[1] - slices[0]))
            share[i, j] = tokens[i, j] / extracts[j].coverage
    pairs = []
    for a in range(n):
        for b in np.flatnonzero(tokens[a, a + 1:] + tokens[a + 1:, a].T) + a + 1:
            pair = Pair(int(a), int(b), float(share[b, a]), float(share[a, b]),
                        int(tokens[b, a]), int(tokens[a, b]))
            side_tokens = pair.tokens_a if pair.similarity_a >= pair.similarity_b \
                else pair.tokens_b
            pair.flagged = pair.similarity >= policy.threshold and \
                side_tokens >= policy.min_shared_tokens
            pairs.append(pair)
    pairs.sort(key=lambda p: (-p.similarity, p.a, p.b))
    return pairs


def pair_slices(extracts, pair, k):
    """(slices of a's code, slices of b's code) shared between the two, in raw positions."""
    a, b = extracts[pair.a], extracts[pair.b]
    hashes = ClassHashes([a, b])
    return (raw_slices(a, copied_slices(a, hashes.mask(hashes.present(1), 0), k)),
            raw_slices(b, copied_slices(b, hashes.mask(hashes.present(0), 1), k)))


def lines_in(code, slices):
    """How many lines of `code` the slices touch."""
    if not slices.shape[1]:
        return 0
    starts = np.flatnonzero(np.frombuffer(code.encode("utf-32-le"), np.uint32) == 10)
    first = np.searchsorted(starts, slices[0])
    last = np.searchsorted(starts, np.maximum(slices[1] - 1, slices[0]))
    touched = np.zeros(len(starts) + 2, np.int64)
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
