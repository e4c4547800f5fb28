"""``run --profile``'s table (analyses/profile.py) from hand-made stage timings, and the
workers' schedule (analyses/workers.py): pure bookkeeping, no fitting."""

from nll_losses.analyses import profile, workers


def test_row_sums_the_stages_of_each_column_and_keeps_the_rest_as_other():
    stages = {
        "nuts compile": 2.0,
        "sweeps nuts compile": 0.5,
        "find_map": 3.0,
        "nuts": 4.0,
        "references": 1.0,
        "sweeps": 10.0,
        "figures and page": 6.0,
        "thumbnail": 0.25,
        "zarr": 0.5,
        "results.json": 0.125,
        "write": 0.125,
        "total": 30.0,
    }
    r = profile.row(stages)
    assert r == {
        "compile": 2.5,
        "find_MAP": 3.0,
        "NUTS": 4.0,
        "references": 1.0,
        "sweeps": 10.0,
        "figures": 6.25,
        "report": 0.75,
        "other": 2.5,  # 30 - 27.5
        "total": 30.0,
    }


def test_table_is_markdown_with_a_row_per_case_and_their_sum():
    text = profile.table(
        {"a": {"find_map": 1.0, "total": 2.0}, "b": {"nuts": 3.0, "total": 3.0}},
        (4.0, 6.5),
        2,
    )
    lines = text.splitlines()
    assert lines[0] == (
        "| case | compile | find_MAP | NUTS | references | sweeps | figures | report | other "
        "| total |"
    )
    assert lines[2] == "| a | 0.0 | 1.0 | 0.0 | 0.0 | 0.0 | 0.0 | 0.0 | 1.0 | 2.0 |"
    assert lines[3] == "| b | 0.0 | 0.0 | 3.0 | 0.0 | 0.0 | 0.0 | 0.0 | 0.0 | 3.0 |"
    assert lines[4] == "| **all cases** | 0.0 | 1.0 | 3.0 | 0.0 | 0.0 | 0.0 | 0.0 | 1.0 | 5.0 |"
    assert "4.0 s wall, 6.5 s CPU" in lines[-1] and "2 workers" in lines[-1]


def test_longest_cases_first_unknown_last_in_given_order():
    names = ["synthetic", "mine", "iris", "other", "softmax_synthetic"]
    assert workers.longest_first(names) == [
        "iris",
        "softmax_synthetic",
        "synthetic",
        "mine",
        "other",
    ]
