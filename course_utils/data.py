"""The two-circles data set shared by every chapter (introduced in "Introduction")."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from course_utils._validation import check_positive_int, check_seed

TRAIN_SEED = 1
TEST_SEED = 2
NOISE = 0.05
# The canonical sets as make_circles_split draws them, stored so that a chapter
# need not import scikit-learn (1.7 s of every kernel's start here). Written by
# _write_canonical_file; tests/test_data.py checks it against scikit-learn,
# seeded as the original assignment seeded it.
CANONICAL_FILE = Path(__file__).with_name("two_circles.npz")
_CANONICAL_NAMES = ("X_train", "Y_train", "X_test", "Y_test")


def make_circles_split(n_samples: int, seed: int, noise: float = NOISE
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Draw one two-circles sample in the course's (features, examples) layout.

    Introduced in the chapter "Why the initial weights matter".

    Parameters
    ----------
    n_samples : int
        Number of points; half lie on the outer circle, half on the inner one.
    seed : int
        Seed of the legacy ``numpy.random.RandomState`` that draws the points.
        The original assignment seeded numpy's global generator with the same
        number; a local ``RandomState`` gives the identical stream without
        touching global state.
    noise : float, default 0.05
        Standard deviation of the Gaussian noise added to each coordinate.

    Returns
    -------
    X : numpy.ndarray of shape (2, n_samples)
        Coordinates, one column per point.
    Y : numpy.ndarray of shape (1, n_samples)
        Labels: 0 for the outer circle, 1 for the inner one.
    """
    # Imported here: scikit-learn takes a noticeable time to import, and the
    # grader's sandbox imports course_utils for every submission.
    from sklearn.datasets import make_circles

    n_samples = check_positive_int(n_samples, "n_samples")
    seed = check_seed(seed)
    points, labels = make_circles(n_samples=n_samples, noise=noise,
                                  random_state=np.random.RandomState(seed))
    return points.T, labels.reshape(1, n_samples)


def load_dataset() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load the canonical training and test sets of the course.

    Introduced in the chapter
    "Why the initial weights matter". The training set has 300 points
    drawn with seed 1, the test set 100 points drawn with seed 2, both with
    noise 0.05, exactly as in the original assignment.

    Returns
    -------
    X_train : numpy.ndarray of shape (2, 300)
    Y_train : numpy.ndarray of shape (1, 300)
    X_test : numpy.ndarray of shape (2, 100)
    Y_test : numpy.ndarray of shape (1, 100)

    Examples
    --------
    >>> X_train, Y_train, X_test, Y_test = load_dataset()
    >>> X_train.shape, Y_test.shape
    ((2, 300), (1, 100))
    """
    with np.load(CANONICAL_FILE, allow_pickle=False) as stored:
        return tuple(stored[name] for name in _CANONICAL_NAMES)


def _draw_canonical_dataset() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Draw the canonical sets with scikit-learn (what ``load_dataset`` stores)."""
    X_train, Y_train = make_circles_split(300, TRAIN_SEED)
    X_test, Y_test = make_circles_split(100, TEST_SEED)
    return X_train, Y_train, X_test, Y_test


def _write_canonical_file(path: Path = CANONICAL_FILE) -> None:
    """Store :func:`_draw_canonical_dataset`'s arrays in ``path``."""
    arrays = dict(zip(_CANONICAL_NAMES, _draw_canonical_dataset(), strict=True))
    np.savez_compressed(path, **arrays)

