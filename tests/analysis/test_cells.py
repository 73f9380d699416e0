"""Do estimates from a cell table equal the engine's on the rows, for every design we use?

The rows are random (weights, lonely strata, missing and out-of-range codes, rows in no
domain, zero weights); the cell table is built from them with pandas, as a database's
GROUP BY would, and both paths must agree to 1e-12.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.cells import (
    CellDesign,
    CellIndicator,
    CellTable,
    coded_tables,
    mean_tables,
    run_cells,
)
from analysis.design import make_design
from analysis.engine import CodedIndicator, run

SAT, VALID = (4, 5), (1, 2, 3, 4, 5)


def _rows(rng: np.random.Generator, n: int, n_strata: int, items: int, zero_w: bool):
    stratum = rng.integers(0, n_strata, n)
    stratum[: n_strata] = np.arange(n_strata)  # every stratum sampled
    psu = stratum * 100 + rng.integers(0, 4, n)
    w = np.repeat(rng.uniform(0.5, 30, n_strata), 1)[stratum] * rng.uniform(0.8, 1.2, n)
    if zero_w:
        w[rng.random(n) < 0.05] = 0.0
    answers = rng.choice([1, 2, 3, 4, 5, 9, np.nan], size=(n, items),
                         p=[0.08, 0.1, 0.17, 0.35, 0.25, 0.02, 0.03])
    domain = rng.integers(-1, 6, n)
    return stratum, psu, w, answers, domain


def _indicators(items: int) -> list[tuple[str, int, np.ndarray, np.ndarray]]:
    out = []
    for j in range(items):
        out.append((f"sat{j}", j, *coded_tables(SAT, VALID)))
    out.append(("mean0", 0, *mean_tables(VALID)))
    out.append(("low0", 0, *coded_tables((1, 2), VALID)))
    return out


def _cells(stratum, psu, w, answers, domain, clustered: bool) -> CellTable:
    frames = []
    for j in range(answers.shape[1]):
        frames.append(pd.DataFrame({
            "stratum": stratum, "psu": psu if clustered else 0, "domain": domain, "item": j,
            "code": answers[:, j], "count": (w > 0).astype(float), "w": w, "w2": w * w,
        }))
    long = pd.concat(frames)
    g = long.groupby(["stratum", "psu", "domain", "item", "code"], dropna=False,
                     sort=False).agg(count=("count", "sum"), wsum=("w", "sum"),
                                     wsum2=("w2", "sum")).reset_index()
    return CellTable(
        stratum=g["stratum"].to_numpy(np.int64), domain=g["domain"].to_numpy(np.int64),
        item=g["item"].to_numpy(np.int64), code=g["code"].to_numpy(float),
        count=g["count"].to_numpy(float), wsum=g["wsum"].to_numpy(float),
        psu=g["psu"].to_numpy(np.int64) if clustered else None,
        wsum2=None if clustered else g["wsum2"].to_numpy(float),
    )


def _compare(res_rows, res_cells) -> None:
    for field in ("estimate", "se", "df", "n", "deff", "denominator"):
        a, b = getattr(res_rows, field), getattr(res_cells, field)
        assert a.shape == b.shape, field
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-15, equal_nan=True,
                                   err_msg=field)


@pytest.mark.parametrize("policy", ["adjust", "remove", "certainty", "average"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_unclustered_cells_equal_rows(seed: int, policy: str) -> None:
    """Desk evaluations: strata = desks, every evaluation its own unit, lonely desks."""
    rng = np.random.default_rng(seed)
    n_strata, items = 40, 3
    stratum, _psu, w, answers, domain = _rows(rng, 600, n_strata, items, zero_w=seed == 2)
    lonely = rng.choice(np.arange(n_strata), 5, replace=False)
    keep = ~np.isin(stratum, lonely) | (np.arange(stratum.size) < n_strata)
    stratum, w, answers, domain = stratum[keep], w[keep], answers[keep], domain[keep]
    inds = _indicators(items)
    design = make_design(stratum.size, weights=w, strata=stratum, lonely_psu=policy)
    rows = run(design, [CodedIndicator(nm, _slots(answers[:, it], nu), nu, de)
                        for nm, it, nu, de in inds], domain, 6)
    labels = tuple(str(h) for h in range(n_strata))
    cells = run_cells(_cells(stratum, None, w, answers, domain, clustered=False),
                      CellDesign(labels, units=np.bincount(stratum, minlength=n_strata),
                                 lonely_psu=policy),
                      [CellIndicator(nm, it, nu, de) for nm, it, nu, de in inds], 6)
    assert (np.bincount(stratum) == 1).sum() >= 5  # the lonely strata are really there
    _compare(rows, cells)


@pytest.mark.parametrize("policy", ["adjust", "average", "remove"])
@pytest.mark.parametrize("seed", [4, 5])
def test_clustered_cells_equal_rows(seed: int, policy: str) -> None:
    """Households: strata, PSUs (one of them alone in its stratum), domains."""
    rng = np.random.default_rng(seed)
    n_strata, items = 12, 4
    stratum, psu, w, answers, domain = _rows(rng, 900, n_strata, items, zero_w=seed == 5)
    psu[stratum == 3] = 300  # a lonely PSU
    inds = _indicators(items)
    design = make_design(stratum.size, weights=w, strata=stratum, clusters=[psu],
                         lonely_psu=policy)
    rows = run(design, [CodedIndicator(nm, _slots(answers[:, it], nu), nu, de)
                        for nm, it, nu, de in inds], domain, 6)
    psu_codes, psu_of_row = np.unique(psu, return_inverse=True)
    psu_stratum = np.zeros(psu_codes.size, dtype=np.int64)
    psu_stratum[psu_of_row] = stratum
    table = _cells(stratum, psu_of_row, w, answers, domain, clustered=True)
    cells = run_cells(table, CellDesign(tuple(str(h) for h in range(n_strata)),
                                        psu_stratum=psu_stratum, lonely_psu=policy),
                      [CellIndicator(nm, it, nu, de) for nm, it, nu, de in inds], 6)
    _compare(rows, cells)


def test_lonely_stratum_fails_with_the_engines_words() -> None:
    """Under "fail", a stratum with one unit stops both paths with the same message."""
    stratum = np.array([0, 0, 1])
    w = np.ones(3)
    answers = np.array([[4.0], [5.0], [2.0]])
    domain = np.full(3, -1)
    inds = _indicators(1)
    design = make_design(3, weights=w, strata=stratum, lonely_psu="fail")
    with pytest.raises(ValueError) as rows_err:
        run(design, [CodedIndicator(nm, _slots(answers[:, it], nu), nu, de)
                     for nm, it, nu, de in inds])
    with pytest.raises(ValueError) as cells_err:
        run_cells(_cells(stratum, None, w, answers, domain, clustered=False),
                  CellDesign(("0", "1"), units=np.array([2, 1]), lonely_psu="fail"),
                  [CellIndicator(nm, it, nu, de) for nm, it, nu, de in inds])
    assert str(cells_err.value) == str(rows_err.value)
    assert "Stratum (1) has only one PSU" in str(cells_err.value)


def test_a_design_is_either_clustered_or_not() -> None:
    with pytest.raises(ValueError, match="either"):
        CellDesign(("1",))


def _slots(values: np.ndarray, numer: np.ndarray) -> np.ndarray:
    from analysis.engine import slots_of

    return slots_of(values, len(numer) - 2)


@pytest.mark.parametrize("clustered", [False, True])
def test_items_and_domains_without_a_valid_answer_equal_rows(clustered: bool) -> None:
    """run_cells sums only the cells with a valid answer to an indicator's item: an item
    nobody answered validly (all 9 or missing), a domain with no valid answer to anything
    and a table with no valid answer at all give the rows' numbers (n 0, no estimate)."""
    rng = np.random.default_rng(7)
    n_strata, items = 6, 3
    stratum, psu, w, answers, domain = _rows(rng, 300, n_strata, items, zero_w=False)
    answers[:, 1] = rng.choice([9.0, np.nan], size=answers.shape[0])  # item 1: none valid
    answers[domain == 2, :] = np.nan  # domain 2: no answer at all
    inds = _indicators(items)
    psu_codes, psu_of_row = np.unique(psu, return_inverse=True)
    psu_stratum = np.zeros(psu_codes.size, dtype=np.int64)
    psu_stratum[psu_of_row] = stratum
    labels = tuple(str(h) for h in range(n_strata))
    for case in (answers, np.full_like(answers, np.nan)):
        design = make_design(stratum.size, weights=w, strata=stratum,
                             clusters=[psu] if clustered else [], lonely_psu="adjust")
        rows = run(design, [CodedIndicator(nm, _slots(case[:, it], nu), nu, de)
                            for nm, it, nu, de in inds], domain, 6)
        cell_design = (CellDesign(labels, psu_stratum=psu_stratum, lonely_psu="adjust")
                       if clustered else
                       CellDesign(labels, units=np.bincount(stratum, minlength=n_strata),
                                  lonely_psu="adjust"))
        cells = run_cells(_cells(stratum, psu_of_row, w, case, domain, clustered=clustered),
                          cell_design, [CellIndicator(*i) for i in inds], 6)
        _compare(rows, cells)
        assert (cells.n[:, 1] == 0).all() and np.isnan(cells.estimate[:, 1]).all()
        assert (cells.n[3] == 0).all()  # domain 2 is row 1 + 2


def test_group_sums_in_one_bincount_equal_the_column_loop_to_the_last_bit(monkeypatch) -> None:
    """A wide matrix (a household index: three columns per criterion) is summed in one
    bincount over (group, column) pairs; each sum adds the same rows in the same order as
    one bincount per column, so the two agree exactly, whatever the memory layout."""
    from analysis import variance

    rng = np.random.default_rng(11)
    group = rng.integers(0, 300, 2000)
    for x in (rng.normal(size=(2000, 57)), np.asfortranarray(rng.normal(size=(2000, 57))),
              rng.normal(size=(2000, 57))[:, ::2]):
        wide = variance.group_sum(group, x, 300)
        monkeypatch.setattr(variance, "FLAT_MOST", 0)  # the column loop
        loop = variance.group_sum(group, x, 300)
        monkeypatch.undo()
        assert wide.shape == loop.shape == (300, x.shape[1])
        assert np.array_equal(wide, loop)
        np.testing.assert_allclose(wide[5], x[group == 5].sum(axis=0), rtol=1e-12)
