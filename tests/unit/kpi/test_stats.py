"""The digest's arithmetic (chalicelib/kpi/stats.py): nearest-rank percentiles, shares and NPS
that say "no data" instead of 0, and the arrows that compare a day with earlier ones.
"""

from __future__ import annotations

import pytest

from chalicelib.kpi import stats


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([60, 120, 180, 240], 50, 120),  # an even count: the lower middle value, never an average
        ([60, 120, 180], 50, 120),
        (list(range(1, 11)), 90, 9),  # the 9th of ten
        (list(range(1, 31)), 90, 27),  # 90 % of 30 is rank 27, not 28 through float rounding
        (list(range(1, 101)), 95, 95),
        (list(range(1, 101)), 1, 1),
        ([7, 8, 9], 100, 9),  # the largest
        ([42], 1, 42),
        ([42], 90, 42),
        ([], 50, None),  # no values: no percentile, not 0
    ],
)
def test_percentiles_are_nearest_rank_and_always_a_value_that_occurred(values, p, expected):
    assert stats.percentile(values, p) == expected


@pytest.mark.parametrize("p", [0, -5, 101])
def test_a_percentile_outside_0_to_100_is_an_error(p):
    with pytest.raises(ValueError):
        stats.percentile([1, 2, 3], p)


def test_median_and_p90_sort_the_values_themselves():
    assert stats.median_p90([240, 60, 180, 120, 600, 30, 90, 150, 300, 45]) == (120, 300)
    assert stats.median([300, 60, 120]) == 120
    assert stats.median_p90([]) == (None, None)
    assert stats.median([]) is None


@pytest.mark.parametrize(("part", "whole", "expected"), [(3, 4, 0.75), (0, 5, 0.0), (5, 5, 1.0), (0, 0, None)])
def test_a_share_of_nothing_is_no_data(part, whole, expected):
    assert stats.share(part, whole) == expected


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([10, 9, 9, 10], 100.0),
        ([0, 3, 6, 6], -100.0),
        ([7, 8, 7, 8], 0.0),  # passives count in the total only
        ([10, 9, 7, 0], 25.0),  # 2 promoters − 1 detractor, of 4
        ([9, 6], 0.0),  # 9 promotes, 6 detracts: the edges
        ([8, 7, 10], pytest.approx(100 / 3)),
        ([], None),
    ],
)
def test_nps_is_promoters_minus_detractors_in_percent(scores, expected):
    assert stats.nps(scores) == expected


def test_nps_reads_a_generator_once():
    assert stats.nps(score for score in (10, 0, 10)) == pytest.approx(100 / 3)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([1.0, 2.0, 6.0], 3.0), ([None, 4.0, None, 2.0], 3.0), ([None, None], None), ([], None), ([0.0, None], 0.0)],
)
def test_a_mean_leaves_days_without_data_out(values, expected):
    assert stats.mean(values) == expected


@pytest.mark.parametrize(
    ("value", "reference", "unit", "higher_is_better", "arrow", "better"),
    [
        # counts and durations: within 5 % of the reference is about the same, both ways, inclusive
        (105, 100, "count", True, "→", None),
        (95, 100, "count", True, "→", None),
        (106, 100, "count", True, "↑", True),
        (94, 100, "count", True, "↓", False),
        (1, 0, "count", None, "↑", None),  # nothing before: any change shows, good or bad unsaid
        (0, 0, "count", None, "→", None),
        (300, 600, "seconds", False, "↓", True),  # answering faster is good news
        (900, 600, "seconds", False, "↑", False),
        (620, 600, "seconds", False, "→", None),
        # shares: within one percentage point
        (0.905, 0.9, "share", True, "→", None),
        (0.21, 0.2, "share", True, "→", None),
        (0.88, 0.9, "share", True, "↓", False),
        (0.02, 0.0, "share", True, "↑", True),  # 2 points, though "5 % of 0" would be nothing
        # NPS: within one point
        (41.0, 40.0, "score", True, "→", None),
        (-10.0, -12.5, "score", True, "↑", True),
        (30.0, 40.0, "score", True, "↓", False),
    ],
)
def test_a_comparison_shows_the_direction_and_whether_it_is_good_news(
    value, reference, unit, higher_is_better, arrow, better
):
    comparison = stats.compare(value, reference, unit=unit, higher_is_better=higher_is_better)
    assert (comparison.reference, comparison.arrow, comparison.better) == (reference, arrow, better)
    assert comparison.as_dict() == {"reference": reference, "arrow": arrow, "better": better}


@pytest.mark.parametrize(("value", "reference"), [(None, 5.0), (5.0, None), (None, None)])
def test_a_comparison_with_a_side_missing_shows_no_arrow(value, reference):
    comparison = stats.compare(value, reference, unit="count", higher_is_better=True)
    assert (comparison.reference, comparison.arrow, comparison.better) == (reference, None, None)


@pytest.mark.parametrize(("value", "reference"), [(0.91, 0.9), (0.51, 0.5), (0.76, 0.75)])
def test_a_share_one_point_off_is_about_the_same(value, reference):
    assert stats.compare(value, reference, unit="share", higher_is_better=True).arrow == "→"
