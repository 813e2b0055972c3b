"""tests.fairness.student_training: its layer profile and its stop at the target (no timing asserted)."""
import types

import numpy as np

from tests.fairness import student_training as st
from tests.fairness.training_speed import random_data


def small_solver(tmp_path, style="template_everything"):
    data = random_data(40, (3, 8, 8))
    modules = st.load_style(style, tmp_path / style)
    return modules, st.make_solver(modules, data), data


def test_profile_times_the_students_layers_and_finds_float64_gradients(tmp_path):
    modules, solver, _ = small_solver(tmp_path)
    rule = solver.update_rule
    rows, grad_dtypes = st.profile_steps(solver, modules, steps=2)
    labels = [label for label, _ in rows]
    assert labels[0] == "whole step"  # the largest: it holds every other row
    for name in ("affine_backward", "spatial_batchnorm_forward", "conv_forward_fast",
                 "max_pool_backward_fast", "update rule (adam)"):
        assert name in labels, name
    # Only outermost calls count (a spatial batchnorm calling the vanilla one counts
    # once), so the layers' rows add up to no more than the step.
    assert sum(ms for label, ms in rows[1:]) <= rows[0][1] * 1.05
    # The classic batchnorm's float64 np.ones make the hidden layer's gradients float64.
    assert grad_dtypes["W2"] == "float64" and grad_dtypes["W1"] == "float32"
    # Everything put back: no wrapper left in the modules, the solver's own rule and loss.
    for module in modules.values():
        for value in vars(module).values():
            assert not (isinstance(value, types.FunctionType) and hasattr(value, "wrapped"))
    assert solver.update_rule is rule and "loss" not in vars(solver.model)
    assert all(p.dtype == np.float32 for p in solver.model.params.values())


def test_training_stops_at_the_first_epoch_reaching_the_target(tmp_path):
    # train_cifar's epoch loop, shared with the reference's training
    from cs231n.train_cifar import run_epochs
    _, solver, data = small_solver(tmp_path / "a", "reference_unchanged")
    solver.num_epochs = 3
    lines, step_ms = [], []
    rows = run_epochs(solver, data, target=0.0, step_ms=step_ms, log=lines.append)
    assert len(rows) == 1 and rows[0]["epoch"] == 1 and len(lines) == 1
    assert len(step_ms) == 1  # 40 images: one (short) batch of 200 per epoch
    _, solver, data = small_solver(tmp_path / "b", "reference_unchanged")
    solver.num_epochs = 3
    rows = run_epochs(solver, data, target=1.01, log=lines.append)
    assert [row["epoch"] for row in rows] == [1, 2, 3]
    assert len(solver.val_acc_history) == 3
