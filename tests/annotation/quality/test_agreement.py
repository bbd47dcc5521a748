"""Agreement statistics against published worked examples and hand-computed values."""

from __future__ import annotations

import math

import pytest

from annotation.quality.agreement import (
    Scheme,
    annotator_agreement,
    fleiss,
    item_agreement,
    kendall_tau,
    krippendorff_alpha,
    pairwise_value,
    project_agreement,
    relation_agreement,
)
from annotation.quality.records import ItemInfo, Judgement

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 coders x 12 units, values 1-5,
# None where a coder gave no value. Published: nominal 0.743, ordinal 0.815, interval 0.849.
KRIPPENDORFF_DATA = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]

# Fleiss (1971) as tabulated in Wikipedia's "Fleiss' kappa": 10 subjects, 14 raters, 5 categories. Published 0.210.
FLEISS_TABLE = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]


def _krippendorff_units() -> list[list[int]]:
    return [[row[unit] for row in KRIPPENDORFF_DATA if row[unit] is not None] for unit in range(12)]


@pytest.mark.parametrize(("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)])
def test_krippendorff_alpha_matches_krippendorffs_published_example(level: str, published: float) -> None:
    figure = krippendorff_alpha(_krippendorff_units(), level, domain=[1, 2, 3, 4, 5])

    assert figure.value == pytest.approx(published, abs=5e-4)
    # Unit 12 has a single value: not pairable, not counted.
    assert figure.n_items == 11


def test_fleiss_kappa_matches_fleiss_1971_example() -> None:
    units = [[category for category, count in enumerate(row) for _ in range(count)] for row in FLEISS_TABLE]

    figure = fleiss(units, categories=[0, 1, 2, 3, 4])

    assert figure.value == pytest.approx(0.210, abs=5e-4)
    assert figure.n_items == 10


def test_nominal_alpha_of_two_coders_matches_hand_computation() -> None:
    # Coincidences: o_aa = 2, o_ab = o_ba = 1, o_bb = 4; n_a = 3, n_b = 5, n = 8.
    # alpha = 1 - (n - 1) * (o_ab + o_ba) / (2 n_a n_b) = 1 - 7 * 2 / 30 = 0.5333.
    figure = krippendorff_alpha([["a", "a"], ["a", "b"], ["b", "b"], ["b", "b"]], "nominal")

    assert figure.value == pytest.approx(1 - 14 / 30)


def test_alpha_is_undefined_when_every_value_is_the_same() -> None:
    figure = krippendorff_alpha([[3, 3], [3, 3]], "ordinal", domain=[1, 2, 3, 4, 5])

    assert figure.value is None
    assert figure.n_items == 2


def test_fleiss_keeps_only_items_with_the_most_common_number_of_raters() -> None:
    units = [["x", "x", "y"], ["x", "x", "x"], ["y", "y", "y"], ["x", "y"]]

    figure = fleiss(units, categories=["x", "y"])

    assert figure.n_items == 3


def test_kendall_tau_of_one_swapped_pair_of_three_is_one_third() -> None:
    # Pairs (r1, r2) and (r1, r3) concordant, (r2, r3) discordant: (2 - 1) / 3.
    assert kendall_tau({"r1": 0, "r2": 1, "r3": 2}, {"r1": 0, "r2": 2, "r3": 1}) == pytest.approx(1 / 3)


def test_relation_agreement_counts_ties_as_their_own_answer() -> None:
    first = {("r1", "r2"): 1, ("r1", "r3"): 1, ("r2", "r3"): 0}
    second = {("r1", "r2"): 1, ("r1", "r3"): 1, ("r2", "r3"): 1}

    assert relation_agreement(first, second) == pytest.approx(2 / 3)


def test_pairwise_choices_agree_by_response_id_whatever_order_each_annotator_saw() -> None:
    item = ItemInfo(1, response_ids=["r1", "r2"])
    shown_reversed = Judgement(1, 10, {"choice": "a"}, display_order=["r2", "r1"])
    shown_in_order = Judgement(1, 11, {"choice": "b"}, display_order=["r1", "r2"])
    scheme = Scheme("pairwise")

    assert pairwise_value(shown_reversed, item) == pairwise_value(shown_in_order, item) == 1
    assert item_agreement(scheme, [shown_reversed, shown_in_order], {1: item}) == 1.0


def test_likert_project_alpha_equals_krippendorff_on_the_same_ratings() -> None:
    # The published data as Likert judgements: coder = annotator, unit = item, one criterion.
    judgements = [
        Judgement(unit, coder, {"ratings": {"helpful": value}})
        for coder, row in enumerate(KRIPPENDORFF_DATA)
        for unit, value in enumerate(row)
        if value is not None
    ]
    scheme = Scheme("likert", criteria=["helpful"], scale=5)

    figures = project_agreement(scheme, judgements, {})

    assert figures["overall"][0].value == pytest.approx(0.815, abs=5e-4)
    assert figures["helpful"][0].value == pytest.approx(0.815, abs=5e-4)
    assert figures["helpful"][0].level == "ordinal"


def test_label_project_reports_alpha_and_fleiss_on_the_same_items() -> None:
    judgements = [
        Judgement(item, annotator, {"labels": [label]})
        for item, labels in enumerate([["x", "x", "x"], ["x", "x", "y"], ["y", "y", "y"], ["y", "x", "y"]])
        for annotator, label in enumerate(labels)
    ]
    scheme = Scheme("label", labels=["x", "y"])

    alpha, kappa = project_agreement(scheme, judgements, {})["overall"]

    # Hand computation: n = 12, n_x = n_y = 6; disagreeing pairable values: units 2 and 4 each give
    # o_xy = o_yx = 2 * 1/2 = 1 -> 4 in all. alpha = 1 - 11 * 4 / (2 * 36) = 0.3889.
    assert alpha.value == pytest.approx(1 - 11 * 4 / 72)
    # Fleiss: P_i = (1, 1/3, 1, 1/3) -> P_bar = 2/3; p_x = p_y = 1/2 -> P_e = 1/2; kappa = (2/3 - 1/2) / (1/2).
    assert kappa.value == pytest.approx(1 / 3)
    assert alpha.n_items == kappa.n_items == 4


def test_ranking_project_reports_mean_tau_and_pairwise_agreement() -> None:
    judgements = [
        Judgement(1, 1, {"ranking": [["r1"], ["r2"], ["r3"]]}, display_order=["r1", "r2", "r3"]),
        Judgement(1, 2, {"ranking": [["r1"], ["r3"], ["r2"]]}, display_order=["r3", "r2", "r1"]),
    ]

    tau, share = project_agreement(Scheme("ranking"), judgements, {})["overall"]

    assert tau.value == pytest.approx(1 / 3)
    assert share.value == pytest.approx(2 / 3)
    assert tau.n_items == share.n_items == 1


def test_likert_item_agreement_uses_the_tolerance() -> None:
    one = Judgement(1, 1, {"ratings": {"a": 3, "b": 5}})
    other = Judgement(1, 2, {"ratings": {"a": 4, "b": 2}})

    assert item_agreement(Scheme("likert", tolerance=0), [one, other], {}) == 0.0
    assert item_agreement(Scheme("likert", tolerance=1), [one, other], {}) == 0.5


def test_multi_label_item_agreement_is_the_jaccard_index() -> None:
    one = Judgement(1, 1, {"labels": ["a", "b"]})
    other = Judgement(1, 2, {"labels": ["b", "c"]})

    assert item_agreement(Scheme("label", labels=["a", "b", "c"], multi_label=True), [one, other], {}) == 1 / 3


def test_a_contrarian_agrees_least_with_the_others() -> None:
    # Two annotators agree on every item; the third always answers the other label.
    judgements = []
    for item in range(6):
        truth = "x" if item % 2 else "y"
        judgements.append(Judgement(item, 1, {"labels": [truth]}))
        judgements.append(Judgement(item, 2, {"labels": [truth]}))
        judgements.append(Judgement(item, 3, {"labels": ["y" if truth == "x" else "x"]}))

    result = annotator_agreement(Scheme("label", labels=["x", "y"]), judgements, {})

    assert result[1].rate == pytest.approx(0.5)  # agrees with 2, not with 3
    assert result[3].rate == 0.0
    # Annotator 1's pairs: 6 with annotator 2 (all alike), 6 with annotator 3 (all unlike): 12 units, n = 24,
    # n_x = n_y = 12, 6 disagreeing units giving o_xy + o_yx = 12. alpha = 1 - 23 * 12 / (2 * 144) = 0.0417.
    assert result[1].versus_others.value == pytest.approx(1 - 23 * 12 / 288)
    # Annotator 3 disagrees with everyone on everything: 12 units, all unlike -> alpha = 1 - 23 * 24 / 288.
    assert result[3].versus_others.value == pytest.approx(1 - 23 * 24 / 288)
    assert result[3].n_items == result[3].versus_others.n_items == 6


def test_likert_per_criterion_pools_the_ratings_of_every_response() -> None:
    judgements = [
        Judgement(1, 1, {"ratings": {"r1": {"helpful": 2, "honest": 5}, "r2": {"helpful": 4, "honest": 5}}}),
        Judgement(1, 2, {"ratings": {"r1": {"helpful": 2, "honest": 4}, "r2": {"helpful": 4, "honest": 5}}}),
    ]
    scheme = Scheme("likert", criteria=["helpful", "honest"], scale=5)

    figures = project_agreement(scheme, judgements, {})

    assert figures["helpful"][0].n_items == 2  # (item 1, r1) and (item 1, r2)
    assert figures["helpful"][0].value == pytest.approx(1.0)
    assert figures["overall"][0].n_items == 4
    assert item_agreement(scheme, judgements, {}) == pytest.approx(3 / 4)


def test_kendall_tau_equals_scipy_on_random_orders_with_ties() -> None:
    import random

    from scipy.stats import kendalltau

    rng = random.Random(5)
    for _ in range(300):
        n = rng.randint(2, 9)
        first = {f"r{i}": float(rng.randint(0, 3)) for i in range(n)}
        second = {f"r{i}": float(rng.randint(0, 3)) for i in range(n)}
        expected = kendalltau(list(first.values()), list(second.values())).statistic

        ours = kendall_tau(first, second)

        if math.isnan(expected):
            assert ours is None
        else:
            assert ours == pytest.approx(expected)
