"""Shared code of the weight-initialization course.

Every chapter imports what it needs from here; nothing is copied between
notebooks. The public face::

    from course_utils import (load_dataset, initialize_parameters, train,
                              predict, accuracy)
"""

from course_utils.data import load_dataset
from course_utils.initializers import (
    available_initializers,
    initialize_parameters,
    needs_data,
    recommended_gain,
    register_initializer,
    register_network_initializer,
)
from course_utils.network import (
    TrainingResult,
    accuracy,
    add_block_parameters,
    backward_propagation,
    compute_cost,
    compute_cost_from_logits,
    forward_propagation,
    predict,
    train,
    train_seeds,
)

__all__ = [
    "TrainingResult",
    "accuracy",
    "add_block_parameters",
    "available_initializers",
    "backward_propagation",
    "compute_cost",
    "compute_cost_from_logits",
    "forward_propagation",
    "initialize_parameters",
    "load_dataset",
    "needs_data",
    "predict",
    "recommended_gain",
    "register_initializer",
    "register_network_initializer",
    "train",
    "train_seeds",
]
