"""Peer-review arithmetic, free of Django so the simulation (bench/peer_sim.py) and the services share it.

Scores are handled per criterion as a percentage of that criterion's best option (0-100), so criteria
with different point scales mix. Two estimates of a submission's grade:

- the median of its reviews, per criterion;
- a calibrated estimate: each reviewer's bias and spread, estimated from their calibration reviews
  (staff-scored work: the difference is exact) and from their agreement with co-reviewers (the
  difference from the others' corrected mean), both shrunk toward "no bias, average spread" when there
  is little data (empirical Bayes with a few pseudo-observations); the estimate is the reliability-
  weighted (1 / variance) mean of the bias-corrected scores.

Which one an assignment uses is measured, not assumed: `compare_methods` scores both against staff
spot checks, each estimated without that spot check's own staff score, and picks the calibrated
estimate only when it agrees with staff better.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence

BIAS_PSEUDO = 3.0  # pseudo-observations of "no bias"
VAR_PSEUDO = 4.0  # pseudo-observations of "the cohort's average spread"
PEER_WEIGHT = 0.5  # a residual against co-reviewers counts half of one against staff (it carries their noise)
MIN_SPOT_CHECKS = 5  # fewer staff spot checks than this: the median, which needs no model
ITERATIONS = 4


@dataclasses.dataclass(frozen=True)
class Crit:
    name: str
    weight: float
    max_points: int


@dataclasses.dataclass(frozen=True)
class Obs:
    """One reviewer's score of one criterion of one submission, as a percentage of its best option."""

    reviewer: int
    item: int
    criterion: str
    value: float


@dataclasses.dataclass(frozen=True)
class ReviewerModel:
    bias: float  # points of 100 above the truth, on average
    variance: float
    observations: int

    @property
    def weight(self) -> float:
        return 1.0 / self.variance

    @property
    def spread(self) -> float:
        return math.sqrt(self.variance)


def criterion_percent(points: float, crit: Crit) -> float:
    return 100.0 * points / crit.max_points if crit.max_points else 0.0


def overall(per_criterion: dict[str, float], rubric: Sequence[Crit]) -> float:
    """The weighted mean of per-criterion percentages."""
    total = sum(c.weight for c in rubric)
    return sum(c.weight * per_criterion[c.name] for c in rubric) / total if total else 0.0


def review_percent(scores: dict[str, int], rubric: Sequence[Crit]) -> float:
    return overall({c.name: criterion_percent(scores[c.name], c) for c in rubric}, rubric)


def observations(reviews: Iterable[tuple[int, int, dict[str, int]]], rubric: Sequence[Crit]) -> list[Obs]:
    """(reviewer id, submission id, scores) → one observation per criterion."""
    return [
        Obs(reviewer, item, c.name, criterion_percent(scores[c.name], c))
        for reviewer, item, scores in reviews
        for c in rubric
        if c.name in scores
    ]


def fit_reviewers(
    obs: Sequence[Obs], truths: dict[tuple[int, str], float], *, prior_variance: float = 225.0
) -> dict[int, ReviewerModel]:
    """Each reviewer's bias and variance from calibration residuals and co-reviewer agreement."""
    by_key: dict[tuple[int, str], list[Obs]] = defaultdict(list)
    for o in obs:
        by_key[(o.item, o.criterion)].append(o)
    models: dict[int, ReviewerModel] = {}
    default = ReviewerModel(0.0, prior_variance, 0)
    for _ in range(ITERATIONS):
        residuals: dict[int, list[tuple[float, float]]] = defaultdict(list)  # reviewer -> [(residual, weight)]
        for key, group in by_key.items():
            truth = truths.get(key)
            if truth is not None:
                for o in group:
                    residuals[o.reviewer].append((o.value - truth, 1.0))
                continue
            if len(group) < 2:
                continue
            corrected = [(o, o.value - models.get(o.reviewer, default).bias) for o in group]
            weights = [models.get(o.reviewer, default).weight for o in group]
            total_w = sum(weights)
            total = sum(w * v for w, (_o, v) in zip(weights, corrected, strict=True))
            for w, (o, value) in zip(weights, corrected, strict=True):
                others = (total - w * value) / (total_w - w)
                residuals[o.reviewer].append((o.value - others, PEER_WEIGHT))
        pooled = [r for rows in residuals.values() for r, _w in rows]
        if len(pooled) >= 10:
            prior_variance = max(statistics.pvariance(pooled), 1.0)
        models = {}
        for reviewer, rows in residuals.items():
            weight = sum(w for _r, w in rows)
            bias = sum(w * r for r, w in rows) / (weight + BIAS_PSEUDO)
            variance = (sum(w * (r - bias) ** 2 for r, w in rows) + VAR_PSEUDO * prior_variance) / (weight + VAR_PSEUDO)
            models[reviewer] = ReviewerModel(bias, max(variance, 1.0), len(rows))
        default = ReviewerModel(0.0, prior_variance, 0)
    models.setdefault(-1, default)  # the model of a reviewer with no data (key -1: never a user id)
    return models


@dataclasses.dataclass(frozen=True)
class Estimate:
    median: dict[str, float]  # per criterion, percent
    calibrated: dict[str, float]
    median_percent: float
    calibrated_percent: float
    spread: float  # highest minus lowest overall percent among the reviews


def estimate(
    reviews: Sequence[tuple[int, dict[str, int]]], rubric: Sequence[Crit], models: dict[int, ReviewerModel]
) -> Estimate:
    """Both estimates for one submission from its reviews: (reviewer id, scores)."""
    default = models.get(-1, ReviewerModel(0.0, 225.0, 0))
    median: dict[str, float] = {}
    calibrated: dict[str, float] = {}
    for c in rubric:
        values = [(reviewer, criterion_percent(scores[c.name], c)) for reviewer, scores in reviews]
        median[c.name] = statistics.median(v for _r, v in values)
        weights = [models.get(r, default).weight for r, _v in values]
        corrected = [v - models.get(r, default).bias for r, v in values]
        value = sum(w * v for w, v in zip(weights, corrected, strict=True)) / sum(weights)
        calibrated[c.name] = min(100.0, max(0.0, value))
    percents = [review_percent(scores, rubric) for _r, scores in reviews]
    return Estimate(
        median=median,
        calibrated=calibrated,
        median_percent=overall(median, rubric),
        calibrated_percent=overall(calibrated, rubric),
        spread=max(percents) - min(percents),
    )


@dataclasses.dataclass(frozen=True)
class Agreement:
    spot_checks: int
    median_rmse: float | None
    calibrated_rmse: float | None
    median_within_5: float | None
    calibrated_within_5: float | None
    method: str  # "median" or "calibrated"

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def rmse(errors: Sequence[float]) -> float:
    return math.sqrt(sum(e * e for e in errors) / len(errors))


def share_within(errors: Sequence[float], points: float) -> float:
    return sum(abs(e) <= points for e in errors) / len(errors)


def compare_methods(
    obs: Sequence[Obs],
    truths: dict[tuple[int, str], float],
    spot_checks: dict[int, float],
    reviews_of: dict[int, list[tuple[int, dict[str, int]]]],
    rubric: Sequence[Crit],
) -> Agreement:
    """Median vs calibrated against staff on staff-graded submissions (`spot_checks`: id → staff percent).
    For each, the reviewer model is fitted without that submission's staff score, so its own answer never
    leaks into its estimate."""
    med_errors, cal_errors = [], []
    for item, staff_percent in spot_checks.items():
        reviews = reviews_of.get(item) or []
        if not reviews:
            continue
        held_out = {key: value for key, value in truths.items() if key[0] != item}
        est = estimate(reviews, rubric, fit_reviewers(obs, held_out))
        med_errors.append(est.median_percent - staff_percent)
        cal_errors.append(est.calibrated_percent - staff_percent)
    n = len(med_errors)
    if not n:
        return Agreement(0, None, None, None, None, "median")
    med, cal = rmse(med_errors), rmse(cal_errors)
    method = "calibrated" if n >= MIN_SPOT_CHECKS and cal < med else "median"
    return Agreement(
        n,
        round(med, 2),
        round(cal, 2),
        round(share_within(med_errors, 5), 3),
        round(share_within(cal_errors, 5), 3),
        method,
    )
