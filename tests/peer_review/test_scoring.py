"""The arithmetic: median and calibrated estimate, shrinkage, and the measured choice between them."""

import random

from peer_review import scoring
from peer_review.scoring import Crit, Obs

RUBRIC = [Crit("a", 1, 10), Crit("b", 2, 10)]


def test_review_percent_weights_criteria():
    assert scoring.review_percent({"a": 10, "b": 5}, RUBRIC) == (100 + 2 * 50) / 3


def test_a_reviewer_with_little_data_is_shrunk_toward_no_bias():
    truths = {(1, "a"): 50.0}
    one = scoring.fit_reviewers([Obs(7, 1, "a", 80.0)], truths)[7]
    many_obs = [Obs(7, i, "a", 80.0) for i in range(20)]
    many = scoring.fit_reviewers(many_obs, {(i, "a"): 50.0 for i in range(20)})[7]
    assert 0 < one.bias < 30 * 0.5  # one calibration review: well short of the raw +30
    assert 25 < many.bias < 30  # twenty: close to it


def test_the_calibrated_estimate_removes_known_bias_and_weights_reliable_reviewers():
    rng = random.Random(1)
    reviewers = {r: (rng.choice([-20, 0, 20]), rng.choice([2, 15])) for r in range(30)}
    obs, truths, true_scores = [], {}, {}
    for item in range(120):
        true_scores[item] = rng.uniform(20, 90)
        chosen = rng.sample(sorted(reviewers), 3)
        if item < 20:  # staff-scored calibration work everyone has seen
            chosen = sorted(reviewers)
            truths[(item, "a")] = true_scores[item]
        for r in chosen:
            bias, noise = reviewers[r]
            obs.append(Obs(r, item, "a", true_scores[item] + bias + rng.gauss(0, noise)))
    models = scoring.fit_reviewers(obs, truths)
    for r, (bias, noise) in reviewers.items():
        assert abs(models[r].bias - bias) < (4 if noise == 2 else 9)  # shrunk a little toward 0, noisier when noisy
        assert models[r].spread < 10 if noise == 2 else models[r].spread > 10
    errors_med, errors_cal = [], []
    rubric = [Crit("a", 1, 100)]
    for item in range(20, 120):
        reviews = [(o.reviewer, {"a": o.value}) for o in obs if o.item == item]
        est = scoring.estimate(reviews, rubric, models)
        errors_med.append(est.median_percent - true_scores[item])
        errors_cal.append(est.calibrated_percent - true_scores[item])
    assert scoring.rmse(errors_cal) < 0.5 * scoring.rmse(errors_med)


def test_the_median_stays_until_spot_checks_show_the_calibrated_estimate_agrees_better():
    rubric = [Crit("a", 1, 10)]
    reviews_of = {i: [(1, {"a": 8}), (2, {"a": 6}), (3, {"a": 4})] for i in range(10)}
    obs = [Obs(r, i, "a", s["a"] * 10.0) for i, rows in reviews_of.items() for r, s in rows]
    truths = {(i, "a"): 60.0 for i in range(10)}
    few = scoring.compare_methods(obs, truths, dict.fromkeys(range(3), 60.0), reviews_of, rubric)
    assert few.spot_checks == 3 and few.method == "median"  # too few spot checks to trust a model
    enough = scoring.compare_methods(obs, truths, dict.fromkeys(range(10), 60.0), reviews_of, rubric)
    assert enough.spot_checks == 10 and enough.median_rmse == 0 and enough.method == "median"  # no better than 0
    assert scoring.compare_methods(obs, truths, {}, reviews_of, rubric).method == "median"


def test_spread_is_between_the_highest_and_lowest_review():
    est = scoring.estimate([(1, {"a": 10, "b": 10}), (2, {"a": 0, "b": 0})], RUBRIC, {})
    assert est.spread == 100 and est.median_percent == 50
