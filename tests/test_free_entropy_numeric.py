"""Psi_out of the numeric RS free entropy for channels with label noise, where Z_out log Z_out has
a narrow feature at omega = 0 on a background of width one."""

import mpmath
import numpy as np
import pytest

from replica_tools.numerics.compiled import NumpyModel
from replica_tools.solvers.branches import FreeEntropy
from replica_tools.symbolic.catalog import build_model


@pytest.fixture(scope="module")
def sign_flip_entropy():
    return FreeEntropy(NumpyModel(build_model("rademacher", "sign-flip", None, {"eta": 0.1}), 1.0))


def _sign_flip_psi_out(V, eta=0.1):
    """Return Psi_out of the sign-flip channel at rho = 1 by mpmath quadrature, split at the scale sqrt(V / q)."""
    q = 1 - mpmath.mpf(V)

    def Z_out(y, omega):
        return (1 - eta) * mpmath.ncdf(y * omega / mpmath.sqrt(V)) + eta * mpmath.ncdf(-y * omega / mpmath.sqrt(V))

    def integrand(xi):
        omega = mpmath.sqrt(q) * xi
        return mpmath.npdf(xi) * sum(Z_out(y, omega) * mpmath.log(Z_out(y, omega)) for y in (-1, 1))

    width = mpmath.sqrt(V / q)
    with mpmath.workdps(30):
        return float(mpmath.quad(integrand, [-mpmath.inf, -10 * width, -width, 0, width, 10 * width, mpmath.inf]))


@pytest.mark.parametrize("V", [0.5, 1e-3, 1e-8])
def test_sign_flip_psi_out_matches_mpmath(sign_flip_entropy, V):
    assert sign_flip_entropy.Psi_out(np.array([V]))[0] == pytest.approx(_sign_flip_psi_out(V), rel=1e-12)


def test_linear_psi_out_is_gaussian_entropy():
    # Z_out(y, omega, V) = N(y; omega, V + Delta), whose integral of Z log Z is -log(2 pi e (V + Delta)) / 2.
    entropy = FreeEntropy(NumpyModel(build_model("gaussian", "linear", {"rho": 1}, {"Delta": 0.3}), 1.0))
    V = np.array([0.5, 0.1, 1e-4])
    assert np.allclose(entropy.Psi_out(V), -np.log(2 * np.pi * np.e * (V + 0.3)) / 2, rtol=1e-12, atol=0)


def test_noisy_sign_psi_out_limit():
    # As V -> 0, Z_out tends to N(y; sign(omega), Delta), whose integral of Z log Z is -log(2 pi e Delta) / 2.
    entropy = FreeEntropy(NumpyModel(build_model("gaussian", "noisy-sign", {"rho": 1}, {"Delta": 0.3}), 1.0))
    assert entropy.Psi_out_perfect == pytest.approx(-np.log(2 * np.pi * np.e * 0.3) / 2, rel=1e-10)
