"""Fixtures shared by every test module (the one place tests import them from)."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

from course_utils import load_dataset, train

REPO_ROOT = Path(__file__).resolve().parent.parent
BOOK_DIR = REPO_ROOT / "book"
BUILD_DIR = REPO_ROOT / "_build" / "html"
ARTIFACTS_DIR = REPO_ROOT / "tests" / "artifacts"


@pytest.fixture(scope="session")
def dataset():
    """The canonical (X_train, Y_train, X_test, Y_test)."""
    return load_dataset()


@pytest.fixture(scope="session")
def canonical_runs(dataset):
    """The three runs of the original assignment, trained once per session."""
    X_train, Y_train, _, _ = dataset
    return {name: train(X_train, Y_train, initialization=name)
            for name in ("zeros", "random", "he")}


@pytest.fixture(scope="session")
def artifacts_dir():
    """A git-ignored folder for screenshots and logs that a person may review."""
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS_DIR


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0
