"""The stored canonical data set is the original assignment's, drawn by scikit-learn."""

import numpy as np
import sklearn.datasets

from course_utils import load_dataset
from course_utils.data import _write_canonical_file


def _original_assignment_sets():
    """The sets as the original assignment drew them: global seeds 1 and 2."""
    state = np.random.get_state()
    try:
        np.random.seed(1)
        train_X, train_Y = sklearn.datasets.make_circles(n_samples=300, noise=.05)
        np.random.seed(2)
        test_X, test_Y = sklearn.datasets.make_circles(n_samples=100, noise=.05)
    finally:
        np.random.set_state(state)
    # The assignment's (features, examples) layout: transposed views.
    return (train_X.T, train_Y.reshape((1, train_Y.shape[0])),
            test_X.T, test_Y.reshape((1, test_Y.shape[0])))


def test_load_dataset_is_the_original_assignments_two_circles():
    for loaded, original in zip(load_dataset(), _original_assignment_sets(),
                                strict=True):
        np.testing.assert_array_equal(loaded, original)
        assert loaded.dtype == original.dtype
        # The memory layout decides which BLAS path a product takes, and so
        # its last bits: the stored arrays keep the original's.
        assert loaded.flags.f_contiguous == original.flags.f_contiguous
        assert loaded.flags.c_contiguous == original.flags.c_contiguous


def test_the_stored_file_is_what_the_writer_writes(tmp_path):
    written = tmp_path / "two_circles.npz"
    _write_canonical_file(written)
    with np.load(written, allow_pickle=False) as stored:
        for name, loaded in zip(["X_train", "Y_train", "X_test", "Y_test"],
                                load_dataset(), strict=True):
            np.testing.assert_array_equal(stored[name], loaded, err_msg=name)


def test_each_load_returns_fresh_arrays():
    first = load_dataset()
    first[0][0, 0] = 99.0
    assert load_dataset()[0][0, 0] != 99.0
