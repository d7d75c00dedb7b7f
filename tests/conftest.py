"""Shared fixtures: the reference model is derived and compiled once per test session."""

import pytest

from replica_tools.numerics.compiled import MpmathModel, NumpyModel
from replica_tools.symbolic import perceptron


@pytest.fixture(scope="session")
def model():
    """The perceptron with a symbolic rho."""
    return perceptron()


@pytest.fixture(scope="session")
def numpy_model(model):
    """The perceptron compiled for NumPy at rho = 1."""
    return NumpyModel(model, 1.0)


@pytest.fixture(scope="session")
def mpmath_model(model):
    """The perceptron compiled for mpmath at rho = 1."""
    return MpmathModel(model, 1)


@pytest.fixture(autouse=True)
def restore_mpmath_precision():
    """Restore mpmath's global precision after each test, whatever the test set."""
    import mpmath

    precision = mpmath.mp.prec
    yield
    mpmath.mp.prec = precision
