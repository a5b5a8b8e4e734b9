"""``botrygt_eval.options``: one place for option names, errors that list the allowed values."""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import pytest

from botrygt_eval import options as o
from botrygt_eval.errors import ConfigError

PACKAGE = Path(o.__file__).parent
LITERALS = {
    name: set(typing.get_args(value))
    for name, value in vars(o).items()
    if typing.get_origin(value) is typing.Literal
}


def test_choices_are_the_literal_values_in_order():
    assert o.choices(o.RegressionSE) == ("cr1", "cr2", "jackknife", "wild")
    assert o.choices(o.AggregateSE) == ("analytic", "jackknife", "bootstrap")
    with pytest.raises(TypeError):
        o.choices(str)


def test_every_estimator_set_is_part_of_the_one_se_vocabulary():
    se = set(o.choices(o.SE))
    for subset in (o.RegressionSE, o.AggregateSE, o.SynthSE):
        assert set(o.choices(subset)) <= se
    # the cluster jackknife has one name everywhere
    assert "cr3" not in se and "jackknife" in set(o.choices(o.RegressionSE))


def test_check_lists_the_allowed_values():
    with pytest.raises(ConfigError, match="se='cr3'.*'cr1', 'cr2', 'jackknife', 'wild'"):
        o.check("se", "cr3", o.RegressionSE)
    o.check("se", "wild", o.RegressionSE)


def test_resolver_turns_names_into_implementations_and_refuses_gaps():
    r = o.Resolver("se", o.AggregateSE, {"analytic": 1, "jackknife": 2, "bootstrap": 3})
    assert r("jackknife") == 2
    with pytest.raises(ConfigError, match="'analytic', 'jackknife', 'bootstrap'"):
        r("cr3")
    with pytest.raises(TypeError, match="missing"):
        o.Resolver("se", o.AggregateSE, {"analytic": 1})


def test_defaults_are_values_of_their_types():
    assert o.TWFE_SE in o.choices(o.RegressionSE) and o.PPML_SE == "wild"
    assert o.EVENT_STUDY_SE == "cr2" and o.AGGREGATE_SE in o.choices(o.AggregateSE)
    assert o.SYNTH_SE in o.choices(o.SynthSE)
    assert isinstance(o.DEFAULT_SEED, int) and 0 < o.DEFAULT_ALPHA < 1


@pytest.mark.parametrize("bad", [1, 2.5, True, -3])
def test_replications_must_be_an_integer_of_at_least_two(bad):
    with pytest.raises(ConfigError, match="replications"):
        o.check_replications(bad)
    o.check_replications(None)
    o.check_replications(999)


def test_no_module_copies_an_option_list():
    """A tuple/list/set of the same strings as a Literal of options.py, anywhere else in the
    package, is a second copy that can drift: read the values with options.choices."""
    copies = []
    for path in PACKAGE.rglob("*.py"):
        if path == PACKAGE / "options.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Tuple | ast.List | ast.Set) and len(node.elts) >= 2:
                if all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
                    values = {e.value for e in node.elts}
                    for name, allowed in LITERALS.items():
                        if values == allowed and len(allowed) >= 2:
                            copies.append(f"{path.relative_to(PACKAGE)}:{node.lineno} ({name})")
    assert copies == [], f"option lists copied from botrygt_eval/options.py: {copies}"
