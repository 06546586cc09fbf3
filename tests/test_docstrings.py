"""Every public function has a numpydoc docstring naming its chapter."""

import inspect
import re

import pytest

import course_utils
from course_utils import data, initializers, network, plots

PUBLIC_MODULES = [data, initializers, network, plots]


def _public_functions():
    for module in PUBLIC_MODULES:
        for name, member in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("_") and member.__module__ == module.__name__:
                yield f"{module.__name__}.{name}", member
    yield "course_utils.TrainingResult", course_utils.TrainingResult


@pytest.mark.parametrize(("qualified_name", "function"), list(_public_functions()))
def test_public_function_docstring(qualified_name, function):
    doc = inspect.getdoc(function)
    assert doc, f"{qualified_name} has no docstring"
    assert re.search(r'Introduced in the chapters? "[^"]+"', doc), (
        f"{qualified_name}'s docstring does not name the chapter introducing it")
    takes_arguments = bool(inspect.signature(function).parameters) \
        if inspect.isfunction(function) else False
    if takes_arguments and not qualified_name.endswith(("relu", "sigmoid")):
        assert "Parameters\n----------" in doc, f"{qualified_name}: no Parameters"


def test_every_name_in_all_is_importable():
    for name in course_utils.__all__:
        assert hasattr(course_utils, name)
