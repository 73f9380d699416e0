"""Do the response, cooperation, refusal and contact rates follow AAPOR's formulas?

Worked by hand for I=60, R=10, NC=20, UO=10, NE=5 (P = O = UH = 0):
e = (60+10+20) / (90+5) = 90/95 = 0.947368…; e·(UH+UO) = 9.473684…
RR1 = 60/100; RR3 = 60/99.473684 = 0.603175…; RR5 = 60/90; COOP1 = 60/70; REF1 = 10/100;
REF2 = 10/99.473684; CON1 = 70/100; CON2 = 70/99.473684; CON3 = 70/90.
"""

from __future__ import annotations

import pytest

from analysis.response_rates import FORMULAS, Dispositions, estimated_e, rates

HAND = Dispositions(I=60, R=10, NC=20, UO=10, NE=5)


def test_rates_match_the_hand_computation() -> None:
    got = rates(HAND)
    assert estimated_e(HAND) == pytest.approx(90 / 95, abs=1e-15)
    expected = {
        "RR1": 0.6, "RR2": 0.6, "RR3": 0.6031746031746031, "RR4": 0.6031746031746031,
        "RR5": 0.6666666666666666, "RR6": 0.6666666666666666,
        "COOP1": 0.8571428571428571, "COOP2": 0.8571428571428571,
        "COOP3": 0.8571428571428571, "COOP4": 0.8571428571428571,
        "REF1": 0.1, "REF2": 0.10052910052910052, "REF3": 0.1111111111111111,
        "CON1": 0.7, "CON2": 0.7037037037037037, "CON3": 0.7777777777777778,
    }
    assert set(got) == {name for name, _ in FORMULAS}
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, abs=1e-12), name


def test_partials_and_other_enter_where_the_definitions_put_them() -> None:
    d = Dispositions(I=50, P=10, R=5, NC=5, O=5, UH=4, UO=6, NE=0)
    got = rates(d, e=0.5)
    assert got["RR1"] == pytest.approx(50 / 85) and got["RR2"] == pytest.approx(60 / 85)
    assert got["RR3"] == pytest.approx(50 / 80) and got["RR6"] == pytest.approx(60 / 75)
    assert got["COOP1"] == pytest.approx(50 / 70) and got["COOP3"] == pytest.approx(50 / 65)
    assert got["CON3"] == pytest.approx(70 / 75)


def test_empty_and_impossible_inputs() -> None:
    assert all(v is None for v in rates(Dispositions()).values())
    assert estimated_e(Dispositions(UO=3)) is None
    with pytest.raises(ValueError, match="between 0 and 1"):
        rates(HAND, e=1.5)
    with pytest.raises(ValueError, match="cannot be negative"):
        Dispositions(I=-1)
