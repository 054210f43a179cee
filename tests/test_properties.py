"""Issue 3: property tests of the formulas and of half-up rounding (hypothesis)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import fmt
from helpers.indicators.evaluate import compute, registry
from tests.factories import make_sy

counts = st.integers(min_value=0, max_value=20000)


@settings(deadline=None)  # examples: the hypothesis profile (conftest.py)
@given(st.integers(-(10**7), 10**7), st.integers(0, 4))
def test_half_up_rounds_ties_away_from_zero(n, d):
    tie = Decimal(n).scaleb(-d) + Decimal(5).scaleb(-d - 1) * (1 if n >= 0 else -1)
    expected = tie.quantize(Decimal(1).scaleb(-d), rounding=ROUND_HALF_UP)
    assert fmt.round_half_up(float(tie), d) == expected
    assert abs(expected) > abs(tie)  # away from zero, never to even


@settings(deadline=None)  # examples: the hypothesis profile (conftest.py)
@given(st.floats(-1e9, 1e9, allow_nan=False), st.integers(0, 4))
def test_rounding_error_is_at_most_half_a_unit(x, d):
    assert abs(float(fmt.round_half_up(x, d)) - x) <= 0.5 * 10**-d + 1e-6 * max(1, abs(x))


@settings(deadline=None)  # examples: the hypothesis profile (conftest.py)
@given(counts, counts, counts, counts)
def test_sector_shares_sum_to_100_within_rounding(primary, secondary, tertiary, further):
    direct = primary + secondary + tertiary
    sy = make_sy(
        {
            "employed_primary": primary,
            "employed_secondary": secondary,
            "employed_tertiary": tertiary,
            "further_study": further,
            "employed_incl_further_study": direct + further,
        }
    )
    ivs = compute(sy)
    shares = [ivs[i] for i in registry().share_groups["sector_shares"]]
    if direct == 0:
        assert all(s.value is None for s in shares)  # 0/0 is missing, not 0
        return
    assert abs(sum(s.value for s in shares) - 100) < 1e-9
    printed = sum(fmt.round_half_up(s.value, 2) for s in shares)
    assert abs(printed - 100) <= Decimal("0.015")


@settings(deadline=None)  # examples: the hypothesis profile (conftest.py)
@given(st.integers(1, 20000), st.data())
def test_rates_stay_within_0_and_100(graduates, data):
    employed = data.draw(st.integers(0, graduates))
    further = data.draw(st.integers(0, employed))
    teachers = data.draw(st.integers(1, 2000))
    dual = data.draw(st.integers(0, teachers))
    sy = make_sy(
        {
            "graduates": graduates,
            "employed_incl_further_study": employed,
            "further_study": further,
            "fulltime_teachers": teachers,
            "dual_qualified_teachers": dual,
            "teachers_senior_title": dual,
        }
    )
    ivs = compute(sy)
    for iid in (
        "employment_rate",
        "further_study_rate",
        "direct_employment_rate",
        "dual_qualified_share",
        "senior_title_share",
    ):
        assert 0 <= ivs[iid].value <= 100, iid


formula_specs = [
    s
    for s in registry().indicators.values()
    if s.formula and not any(n.startswith("prev.") for n in s.inputs)
]


@settings(deadline=None, max_examples=settings().max_examples // 2)
@given(st.sampled_from(formula_specs), st.data())
def test_missing_inputs_give_missing_results_not_errors(spec, data):
    from helpers.specs.dictionary import load_dictionary

    facts = load_dictionary().facts
    leaves = set()

    def expand(iid):
        s = registry().indicators.get(iid)
        if s is None:
            leaves.add(iid)
        else:
            for n in s.inputs:
                expand(n)

    expand(spec.id)
    leaves &= set(facts)
    present = (
        data.draw(st.sets(st.sampled_from(sorted(leaves)), max_size=len(leaves) - 1))
        if leaves
        else set()
    )
    sy = make_sy({n: 100.0 + i for i, n in enumerate(sorted(present))})
    iv = compute(sy)[spec.id]
    assert iv.value is None and iv.text == fmt.MISSING
