"""Reading a user's CSV (analyses.user_data.load_csv): text columns, formulas, missing cells,
the family chosen from the target, exact numbers and one-line refusals.  Pure reading: no
model is built here."""

import warnings

import numpy as np
import pyarrow as pa
import pytest
from reference import design_matrices
from tolerances import ARITH_RTOL

from nll_losses.analyses import csvfile
from nll_losses.analyses.errors import InputError
from nll_losses.analyses.user_data import check_design, load_csv
from nll_losses.models import get_family

PEOPLE = """age,sex,smoker,y
34,male,no,1.5
41,female,yes,2.25
29,female,no,0.5
55,male,yes,3.0
38,male,no,1.75
62,female,no,2.5
47,female,yes,2.0
"""


def write(tmp_path, text, name="d.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def refused(*args, **kw) -> str:
    """The one-line message of the InputError that load_csv raises."""
    with pytest.raises(InputError) as info:
        load_csv(*args, **kw)
    message = str(info.value)
    assert "\n" not in message and "np.float64" not in message, message
    return message


@pytest.mark.parametrize("header", ["x,x,y", "y,x,y", "x, x,y"])
def test_duplicate_names_refused_as_written(tmp_path, header):
    path = write(tmp_path, header + "\n1,2,3\n2,3,5\n3,1,4\n4,4,8\n")
    message = refused(path, "y")
    dupe = "y" if header.startswith("y") else "x"
    assert "duplicate" in message and repr(dupe) in message


def test_text_column_dummy_coded_first_sorted_level_as_reference(tmp_path):
    data = load_csv(write(tmp_path, PEOPLE), "y", family=get_family("normal"))
    assert data.feature_names == ("age", "sex[T.male]", "smoker[T.yes]")
    sex = ["male", "female", "female", "male", "male", "female", "female"]
    smoker = ["no", "yes", "no", "yes", "no", "no", "yes"]
    expected = np.column_stack(
        [
            [34, 41, 29, 55, 38, 62, 47],
            [s == "male" for s in sex],
            [s == "yes" for s in smoker],
        ]
    ).astype(float)
    np.testing.assert_array_equal(data.X, expected)
    said = " ".join(data.reading["choices"])
    assert "reference level 'female'" in said and "reference level 'no'" in said
    assert "reference level 'female'" in data.description


def test_formula_matches_default_coding_and_decides_the_intercept(tmp_path):
    path = write(tmp_path, PEOPLE)
    normal = get_family("normal")
    default = load_csv(path, "y", family=normal)
    formula = load_csv(path, None, family=normal, formula="y ~ age + C(sex) + C(smoker)")
    assert formula.feature_names == ("age", "C(sex)[T.male]", "C(smoker)[T.yes]")
    np.testing.assert_array_equal(formula.X, default.X)
    assert formula.reading["has_intercept"] is True
    no_int = load_csv(path, None, family=normal, formula="y ~ 0 + C(sex) + age")
    assert no_int.reading["has_intercept"] is False
    assert no_int.feature_names == ("C(sex)[female]", "C(sex)[male]", "age")
    message = refused(path, None, intercept=False, family=normal, formula="y ~ age + C(sex)")
    assert "--no-intercept" in message and "0 + " in message
    assert "different targets" in refused(path, "age", family=normal, formula="y ~ C(sex)")
    assert "left side" in refused(path, None, family=normal, formula="log(y) ~ age")


def test_missing_cells_counted_with_file_lines_then_dropped(tmp_path):
    text = "a,b,y\n1,2,0.5\n\n2,,1.5\n3,4,NA\n4,5,2.5\n5,nan,3.5\n6,1,4.5\n7,3,5.5\n8,2,6.25\n"
    path = write(tmp_path, text)
    message = refused(path, "y")
    # the blank line 3 counts: the blank cell is on file line 4, NA on 5, nan on 7
    assert "3 missing" in message and "'b' (2)" in message and "'y' (1)" in message
    assert "line(s) 4, 5, 7" in message and "--dropna" in message
    data = load_csv(path, "y", dropna=True)
    np.testing.assert_array_equal(data.X, [[1, 2], [4, 5], [6, 1], [7, 3], [8, 2]])
    np.testing.assert_array_equal(data.y, [0.5, 2.5, 4.5, 5.5, 6.25])
    assert "dropped 3 of 8 rows" in data.description


def test_line_numbers_after_blank_lines(tmp_path):
    path = write(tmp_path, "a,b,y\n1,2,3.5\n\n\n2,3,5.1\n3,?,4.2\n4,4,8.3\n5,2,1.1\n6,1,2.5\n")
    assert "'?' at line 6" in refused(path, "y")
    ragged = write(tmp_path, "a,b,y\n1,2,3.5\n\n2,3\n", "r.csv")
    assert "line 4 has 2 cell(s)" in refused(ragged, "y")


@pytest.mark.parametrize(
    "values, family, said",
    [
        ([0, 1, 1, 0, 1, 0, 0, 1], "bernoulli", "y = 1 for '1'"),
        (["no", "yes", "yes", "no", "yes", "no", "no", "yes"], "bernoulli", "y = 1 for 'yes'"),
        (["a", "b", "c", "a", "b", "c", "a", "b"], "categorical", "baseline class 'a'"),
        ([0.5, -1.25, 2.0, 3.5, 1.0, 0.25, 4.5, 2.75], "normal", "holds numbers"),
        ([-1, 1, 1, -1, 1, -1, -1, 1], "bernoulli", "y = 1 for '1'"),  # two numbers: binary
        ([0.5, 1.5, 1.5, 0.5, 1.5, 0.5, 0.5, 1.5], "bernoulli", "y = 1 for '1.5'"),
    ],
)
def test_family_auto_chooses_and_says(tmp_path, values, family, said):
    x = [0.3, -1.2, 0.8, 1.9, -0.4, 0.1, 2.2, -0.9]
    path = write(tmp_path, "x,t\n" + "".join(f"{a},{b}\n" for a, b in zip(x, values, strict=True)))
    data = load_csv(path, "t", family="auto")
    assert data.reading["family"] == family
    assert said in data.reading["choices"][0]
    assert f"family {family} chosen" in data.description.lower()


def test_family_auto_refuses_counts_and_normal_refuses_labels(tmp_path):
    path = write(tmp_path, "x,t\n" + "".join(f"{i * 0.7},{i % 4}\n" for i in range(9)))
    message = refused(path, "t", family="auto")
    assert "count" in message and "--family normal" in message
    labels = write(tmp_path, "x,t\n1,no\n2,yes\n3,no\n4,yes\n", "l.csv")
    message = refused(labels, "t", family=get_family("normal"))
    assert "--family bernoulli" in message and "'no'" in message


def test_floats_read_back_exactly(tmp_path):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((300, 3)) * 10.0 ** rng.integers(-30, 30, size=(300, 3))
    y = rng.standard_normal(300)
    rows = [",".join(repr(float(v)) for v in r) for r in np.column_stack([X, y])]
    path = write(tmp_path, "a,b,c,y\n" + "\n".join(rows) + "\n")
    data = load_csv(path, "y")
    np.testing.assert_array_equal(data.X, X)  # bit for bit: repr round-trips in Python
    np.testing.assert_array_equal(data.y, y)


def test_huge_and_tiny_values_name_column_value_and_cause(tmp_path):
    big = write(tmp_path, "x1,x2,y\n1,2,3.5\n2,1e308,5.1\n3,1,4.2\n4,4,8.3\n5,2,1.1\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning on the way
        message = refused(big, "y")
        tiny_rows = "".join(f"{i},{(i + 1) * 1e-300},{i * 1.5 + 0.25}\n" for i in range(6))
        tiny = refused(write(tmp_path, "x1,x2,y\n" + tiny_rows, "t.csv"), "y")
    assert "'x2' value 1e+308 (line 3)" in message and "overflow" in message
    assert "collinear" not in message
    assert "'x2'" in tiny and "underflow" in tiny


def test_design_check_keeps_ill_conditioned_refuses_collinear():
    X, _, intercept = design_matrices()["poly10_filip_like"]
    check_design(X, [f"x{k}" for k in range(X.shape[1])], intercept, "filip")
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((2, 30))
    with pytest.raises(InputError, match="'a', 'b', 's' are collinear"):
        check_design(np.column_stack([a, b, a + 2 * b]), ["a", "b", "s"], True, "t")
    with pytest.raises(InputError, match="collinear"):  # x and 2 + x: collinear with 1
        check_design(np.column_stack([a, 2 + a]), ["a", "c"], True, "t")
    check_design(np.column_stack([a, 2 + a]), ["a", "c"], False, "t")  # no intercept: fine


def test_too_large_for_memory_refused_before_reading(tmp_path, monkeypatch):
    path = write(tmp_path, PEOPLE)
    monkeypatch.setattr(csvfile, "available_memory", lambda: 1000)
    message = refused(path, "y")
    assert "memory" in message and "available" in message and "bytes" in message


def test_text_column_with_many_values_refused(tmp_path):
    rows = "".join(f"id{i},{i * 0.5},{i % 3 + 0.5 * i}\n" for i in range(80))
    message = refused(write(tmp_path, "name,x,y\n" + rows), "y")
    assert "'name'" in message and "80 different values" in message and "--features" in message


@pytest.mark.parametrize("name", ["max_levels", "intercept", "text", "formula"])
def test_formula_sees_only_the_columns(tmp_path, name):
    """Names the file does not have are refused by name, not taken from the code's variables
    (build's own arguments were a silently dropped term or a column of ones)."""
    message = refused(write(tmp_path, PEOPLE), None, formula=f"y ~ age + {name}")
    assert f"{name!r} is not a column of the file" in message


@pytest.mark.parametrize("formula", ["y ~ age | sex", "y | sex ~ age", "~ age | sex"])
def test_multi_part_formula_refused(tmp_path, formula):
    message = refused(write(tmp_path, PEOPLE), "y", formula=formula)
    assert "one left and one right side" in message and "remove '|'" in message


def test_formula_transforms_read_their_columns(tmp_path):
    """formulaic's stateful transforms do not list their arguments as required variables:
    the columns are found in the formula's text and the transform is evaluated."""
    path = write(tmp_path, PEOPLE)
    data = load_csv(path, None, formula="y ~ scale(age) + C(sex)")
    age = np.array([34, 41, 29, 55, 38, 62, 47], dtype=float)
    expected = (age - age.mean()) / age.std(ddof=1)  # formulaic's scale: sample sd
    np.testing.assert_allclose(data.X[:, 0], expected, rtol=ARITH_RTOL)
    poly = load_csv(path, None, formula="y ~ poly(age, 2)")
    assert poly.X.shape == (7, 2)


X8 = [0.3, -1.2, 0.8, 1.9, -0.4, 0.1, 2.2, -0.9]


def target_csv(values) -> str:
    return "x,t\n" + "".join(f"{a},{b}\n" for a, b in zip(X8, values, strict=True))


@pytest.mark.parametrize("values", [["1", "1.0"] * 4, ["0", "-0"] * 4, ["1", "1e0"] * 4])
def test_labels_of_one_number_are_one_value(tmp_path, values):
    """``1`` and ``1.0`` are one value: constant for --family auto, one class for bernoulli
    and categorical (were two labels: bernoulli chosen on a constant target)."""
    path = write(tmp_path, target_csv(values))
    assert "is constant" in refused(path, "t", family="auto")
    assert "found 1" in refused(path, "t", family=get_family("bernoulli"))
    assert "one class only" in refused(path, "t", family=get_family("categorical"))


def test_zero_one_written_three_ways_is_bernoulli(tmp_path):
    values = ["0", "1", "1.0", "0", "1", "-0", "1.0", "0"]
    path = write(tmp_path, target_csv(values))
    data = load_csv(path, "t", family="auto")
    assert data.reading["family"] == "bernoulli"
    np.testing.assert_array_equal(data.y, [0, 1, 1, 0, 1, 0, 1, 0])
    assert data.target_info["positive (y = 1)"] == "1"
    bernoulli = get_family("bernoulli")
    options = bernoulli.Options(positive="0.0")  # names the label 0 by its number
    flipped = load_csv(path, "t", family=bernoulli, options=options)
    np.testing.assert_array_equal(flipped.y, [1, 0, 0, 1, 0, 1, 0, 1])


@pytest.mark.parametrize("formula", [None, "y ~ age + C(sex)", "y ~ 0 + age + sex"])
def test_text_column_with_one_level_refused(tmp_path, formula):
    """A one-level text column made no dummy column: an intercept-only model under a false
    note.  It is refused like a constant column."""
    path = write(tmp_path, PEOPLE.replace("female", "male"))
    target = None if formula else "y"
    message = refused(path, target, formula=formula, family=get_family("normal"))
    assert "column 'sex' is text with one value 'male'" in message and "leave it out" in message


def test_identifier_in_a_formula_refused_before_the_design_is_built(tmp_path, monkeypatch):
    """An ID-like text column in a formula made one dummy column per row (memory grows as
    rows squared): refused from its number of levels, before formulaic builds anything."""
    rows = "".join(f"{i * 0.5},id{i},{i % 3 + 0.25 * i}\n" for i in range(40))
    path = write(tmp_path, "x,id,y\n" + rows)

    def no_matrix(*args, **kw):
        raise AssertionError("model_matrix called")

    monkeypatch.setattr("formulaic.model_matrix", no_matrix)
    message = refused(path, None, formula="y ~ x + id", family=get_family("normal"))
    assert "at least 40 parameters for 40 rows" in message and "'id' (40 values)" in message
    few = "".join(f"{i * 0.5},g{i % 20},{i % 3 + 0.25 * i}\n" for i in range(40))
    path = write(tmp_path, "x,id,y\n" + few, "few.csv")
    # enough to read the file (about 7 kB estimated), not for 40 x 19 design cells
    monkeypatch.setattr(csvfile, "available_memory", lambda: 20_000)
    message = refused(path, None, formula="y ~ x + id", family=get_family("normal"))
    assert "40 rows x at least 19 columns" in message and "20.0 KB is available" in message


@pytest.mark.parametrize(("sep", "what"), [(";", "semicolon"), ("\t", "tab")])
def test_other_separator_named(tmp_path, sep, what):
    rows = "".join(f"{a}{sep}{b}\n" for a, b in zip(X8, range(8), strict=True))
    message = refused(write(tmp_path, f"y{sep}x\n" + rows), "y")
    assert f"looks {what}-separated" in message and "save it as comma-separated" in message


def test_rows_longer_than_a_block_are_read(tmp_path):
    """Arrow parses 1 MiB blocks and refused a longer row ("straddles two block
    boundaries"); the block grows instead, and line numbers still come out right."""
    long = "n" * (csvfile.BLOCK_SIZE + 10)
    rows = [f"{a},{i},{long if i == 2 else 'short'}\n" for i, a in enumerate(X8)]
    path = write(tmp_path, "y,x,note\n" + "".join(rows))
    data = load_csv(path, "y", features=["x"], family=get_family("normal"))
    np.testing.assert_array_equal(data.y, X8)
    huge = write(tmp_path, "y,x\n1,2\n3," + "9" * (csvfile.BLOCK_SIZE + 10) + "\n", "h.csv")
    assert "column 'x' line 3" in refused(huge, "y", family=get_family("normal"))


def test_builtin_class_labels_are_plain_strings():
    """The iris page showed ``np.str_('setosa')``: scikit-learn's target_names are numpy
    strings, whose repr is what a page prints for a list or dict of them."""
    from nll_losses.analyses.datasets import iris

    info = iris().target_info
    assert [type(c) for c in info["classes"]] == [str] * 3, info["classes"]
    assert "np.str_" not in repr(info)


def test_family_auto_asks_every_registered_family(tmp_path, monkeypatch):
    """--family auto asks each family (Family.auto), so a new family's reading of whole
    numbers joins the choices without a line in analyses/: here a stand-in count family."""
    from nll_losses.analyses import user_data
    from nll_losses.models import FAMILIES
    from nll_losses.models.targets import Claim

    class Counts:
        def auto(self, values):
            return Claim(False, "", "for counts") if values.whole_non_negative else None

    monkeypatch.setattr(user_data, "FAMILIES", {**FAMILIES, "counts": Counts()})
    path = write(tmp_path, "x,t\n" + "".join(f"{i * 0.7},{i % 4}\n" for i in range(9)))
    message = refused(path, "t", family="auto")
    assert "--family counts for counts" in message and "--family normal" in message
    monkeypatch.setattr(Counts, "auto", lambda self, values: Claim(True, "holds counts", ""))
    cells = pa.array([str(i % 4) for i in range(9)])
    assert user_data.choose_family(cells, "t") == (
        "counts",
        "family counts chosen (--family auto): target 't' holds counts",
    )
