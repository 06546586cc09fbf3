"""Prose values: glued when set, shown as their plain text by any kernel."""

import numpy as np
import pytest
from IPython.core.formatters import format_display_data
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from course_utils.prose import PROSE_EXPRESSION, Prose, ProseText


@pytest.fixture
def shell():
    """An in-process IPython shell, so that glue has a cell to record into."""
    shell = InteractiveShell.instance()
    yield shell
    InteractiveShell.clear_instance()


def test_setting_a_value_glues_its_plain_text(shell):
    prose = Prose()
    with capture_output() as captured:
        prose.he_final_cost = f"{0.06480923:.4f}"
        prose.n_train = 300
    (cost, count) = captured.outputs
    assert cost.data == {"application/papermill.record/text/plain": "0.0648"}
    assert cost.metadata["scrapbook"]["name"] == "he_final_cost"
    assert count.data == {"application/papermill.record/text/plain": "300"}
    assert count.metadata["scrapbook"]["name"] == "n_train"


@pytest.mark.parametrize("value", ["0.0648", 300, np.float64(0.5)])
def test_prose_records_what_myst_nbs_own_glue_records(shell, value):
    from myst_nb import glue

    with capture_output() as captured:
        glue("name", ProseText(str(value)), display=False)
        prose = Prose()
        prose.name = value
    (theirs, ours) = captured.outputs
    assert ours.data == theirs.data
    assert ours.metadata == theirs.metadata


def test_a_kernel_evaluating_the_attribute_gets_the_bare_text(shell):
    prose = Prose()
    prose.best_scale = 0.3
    prose.smallest_logit = "-1234"
    shell.user_ns["prose"] = prose
    reply = shell.user_expressions({"0": "prose.best_scale",
                                    "1": "prose.smallest_logit"})
    assert reply["0"]["status"] == "ok"
    assert reply["0"]["data"] == {"text/plain": "0.3"}
    assert reply["1"]["data"] == {"text/plain": "-1234"}


@pytest.mark.parametrize(("value", "shown"), [
    ("0.0648", "0.0648"), (300, "300"), (0.9933, "0.9933"),
    (np.float64(0.5), "0.5"), (np.int64(7), "7"), ("1e-05", "1e-05")])
def test_the_shown_text_is_str_of_the_value(shell, value, shown):
    prose = Prose()
    prose.n = value
    assert prose.n == shown and repr(prose.n) == shown
    assert format_display_data(prose.n)[0] == {"text/plain": shown}


def test_bad_names_and_values_are_refused_naming_the_argument():
    prose = Prose()
    with pytest.raises(AttributeError, match="name: '_hidden'"):
        prose._hidden = 1
    with pytest.raises(TypeError, match=r"value: prose.costs must be .* not list"):
        prose.costs = [1, 2]
    with pytest.raises(AttributeError, match=r"prose\.missing was never set"):
        _ = prose.missing


def test_outside_ipython_nothing_is_displayed(capsys):
    assert not InteractiveShell.initialized()
    prose = Prose()
    prose.n = 1
    assert capsys.readouterr().out == ""
    assert repr(prose) == "Prose(n='1')"


def test_the_expression_pattern_accepts_only_prose_names():
    assert PROSE_EXPRESSION.match("prose.he_final_cost")["name"] == "he_final_cost"
    for text in ("he_final_cost", "prose.a.b", "prose.x()", "prose._x", "x.y"):
        assert not PROSE_EXPRESSION.match(text)
    assert ProseText("a") == "a" and type(str(ProseText("a"))) is str
