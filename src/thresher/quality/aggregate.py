"""One label per item from several annotators: majority vote and Dawid–Skene.

Majority vote trusts every annotator equally. Dawid–Skene (1979) learns, by EM, each
annotator's confusion matrix (how often they say l when the truth is k) and the class priors,
so a careless or adversarial annotator stops outvoting careful ones, and each item gets a
posterior over labels (its confidence).

Ties in the majority vote are reported, never hidden: an item whose top count is shared gets
``tie=True`` and the tied labels; the label chosen is the tied label with the highest Dawid–Skene
posterior, and, when those are equal too, the first in text order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DawidSkene", "MajorityVote", "TIE_RULE", "dawid_skene", "majority_vote"]

TIE_RULE = ("a tie goes to the tied label with the highest Dawid-Skene posterior; "
            "if those are equal too, to the first tied label in text order")
_EQUAL = 1e-9  # posteriors closer than this count as equal


@dataclass
class MajorityVote:
    """Per item: the chosen label code, whether the top count was tied, and the tied codes."""

    label: np.ndarray
    tie: np.ndarray
    tied: list[list[int]]


@dataclass
class DawidSkene:
    """The fitted model: per-item posteriors, class priors, per-annotator confusion matrices."""

    posterior: np.ndarray  # (items, labels)
    priors: np.ndarray  # (labels,)
    confusion: np.ndarray  # (annotators, true label, given label); rows sum to 1
    iterations: int
    converged: bool
    log_likelihood: float

    def label(self, text_rank: np.ndarray) -> np.ndarray:
        """The most probable label per item; equal posteriors go to the first in text order."""
        best = self.posterior.max(1, keepdims=True)
        return _first_in_text_order(self.posterior >= best - _EQUAL, text_rank)

    @property
    def confidence(self) -> np.ndarray:
        return self.posterior.max(1)


def majority_vote(counts: np.ndarray, text_rank: np.ndarray,
                  posterior: np.ndarray | None = None) -> MajorityVote:
    """The most frequent label per item from (items, labels) counts; ties broken as TIE_RULE says.

    ``text_rank[k]`` is label k's position in text order (the last resort for ties).
    """
    top = counts == counts.max(1, keepdims=True)
    tie = top.sum(1) > 1
    candidates = top.copy()
    if posterior is not None:
        best = np.where(top, posterior, -np.inf).max(1, keepdims=True)
        candidates &= posterior >= best - _EQUAL
    label = _first_in_text_order(candidates, text_rank)
    tied = [np.flatnonzero(row).tolist() if is_tie else [] for row, is_tie in zip(top, tie)]
    return MajorityVote(label, tie, tied)


def _first_in_text_order(candidates: np.ndarray, text_rank: np.ndarray) -> np.ndarray:
    return np.where(candidates, text_rank[None, :], len(text_rank)).argmin(1)


def dawid_skene(item: np.ndarray, annotator: np.ndarray, label: np.ndarray, *, n_items: int,
                n_annotators: int, n_labels: int, smoothing: float = 0.01, tol: float = 1e-7,
                max_iter: int = 200) -> DawidSkene:
    """Fit Dawid–Skene by EM on observations (item, annotator, label), all integer codes.

    Starts from the vote shares of each item (a soft majority vote, so ties start even). The
    M-step adds ``smoothing`` to every confusion and prior count, so an annotator who never used
    a label is not certain never to use it; EM stops when the log-likelihood gains less than
    ``tol`` (relative) or after ``max_iter`` rounds.
    """
    votes = np.zeros((n_items, n_labels))
    np.add.at(votes, (item, label), 1.0)
    posterior = votes / votes.sum(1, keepdims=True)
    previous, converged, iterations = -np.inf, False, 0
    for iterations in range(1, max_iter + 1):
        priors, confusion = _m_step(posterior, item, annotator, label, n_annotators, smoothing)
        posterior, log_likelihood = _e_step(priors, confusion, item, annotator, label, n_items)
        if abs(log_likelihood - previous) <= tol * abs(log_likelihood):
            converged = True
            break
        previous = log_likelihood
    return DawidSkene(posterior, priors, confusion, iterations, converged, float(log_likelihood))


def _m_step(posterior: np.ndarray, item: np.ndarray, annotator: np.ndarray, label: np.ndarray,
            n_annotators: int, smoothing: float) -> tuple[np.ndarray, np.ndarray]:
    k = posterior.shape[1]
    priors = (posterior.sum(0) + smoothing) / (posterior.shape[0] + k * smoothing)
    given = annotator * k + label
    # counts[r, true, given]: the posterior mass of each true class behind annotator r's answers
    counts = np.stack([np.bincount(given, weights=posterior[item, t], minlength=n_annotators * k)
                       for t in range(k)]).reshape(k, n_annotators, k).transpose(1, 0, 2)
    counts = counts + smoothing
    return priors, counts / counts.sum(2, keepdims=True)


def _e_step(priors: np.ndarray, confusion: np.ndarray, item: np.ndarray, annotator: np.ndarray,
            label: np.ndarray, n_items: int) -> tuple[np.ndarray, float]:
    k = len(priors)
    log_confusion = np.log(confusion)
    log_joint = np.log(priors)[None, :] + np.stack(
        [np.bincount(item, weights=log_confusion[annotator, t, label], minlength=n_items) for t in range(k)],
        axis=1)
    peak = log_joint.max(1, keepdims=True)
    norm = peak[:, 0] + np.log(np.exp(log_joint - peak).sum(1))
    return np.exp(log_joint - norm[:, None]), float(norm.sum())
