"""Phi_RS with six order parameters against hand derivations and direct quadrature."""

import mpmath
import pytest
import sympy as sp

from replica_tools.symbolic import Model, Prior, sign_channel
from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.checks import numeric_value
from replica_tools.symbolic.free_entropy import (Q, Qhat, gaussian_integration_by_parts, integrand_of, m, mhat,
                                                 rs_free_entropy)
from replica_tools.symbolic.gaussian import standard_normal_pdf

# A point away from the Nishimori line, where no two order parameters coincide.
GENERAL_POINT = {Q: sp.Rational(9, 10), Qhat: sp.Rational(1, 5), s.q: sp.Rational(2, 5), s.qhat: sp.Rational(3, 2),
                 m: sp.Rational(3, 10), mhat: sp.Rational(6, 5), s.rho: 1, s.alpha: sp.Rational(7, 4)}


@pytest.fixture(scope="module")
def free_entropy(model):
    return rs_free_entropy(model)


def hand_Psi_w():
    # By hand for P_0 = N(0, rho): log Z_w = gamma^2 rho / (2 (1 + Lambda rho)) - log(1 + Lambda rho) / 2,
    # and gamma = mhat w* + sqrt(qhat) xi has E[gamma^2] = mhat^2 rho + qhat.
    Lambda_rho = 1 + (Qhat + s.qhat) * s.rho
    return (mhat**2 * s.rho + s.qhat) * s.rho / (2 * Lambda_rho) - sp.log(Lambda_rho) / 2


def test_Psi_w_closed_form_matches_hand(free_entropy):
    assert sp.simplify(free_entropy.Psi_w - hand_Psi_w()) == 0


def test_Psi_w_integral_matches_closed_form(free_entropy):
    # The integral as written, Z_w* log Z_w against N(xi), by quadrature at 30 digits.
    integral = numeric_value(free_entropy.Psi_w_integral, GENERAL_POINT)
    closed = numeric_value(hand_Psi_w(), GENERAL_POINT)
    assert abs(integral - closed) < mpmath.mpf(10) ** -25


def test_Psi_out_by_direct_quadrature(free_entropy):
    # sum_y E_xi[Phi(y m xi / sqrt(q (rho q - m^2)) ...)]: written with mpmath.ncdf from scratch.
    mpmath.mp.dps = 30
    point = GENERAL_POINT
    q, m_value, Q_value = (mpmath.mpf(point[key].p) / point[key].q for key in (s.q, m, Q))

    def integrand(x):
        total = 0
        for y in (-1, 1):
            teacher = mpmath.ncdf(y * m_value * x / mpmath.sqrt(q) / mpmath.sqrt(1 - m_value**2 / q))
            student = mpmath.ncdf(y * mpmath.sqrt(q) * x / mpmath.sqrt(Q_value - q))
            total += teacher * mpmath.log(student)
        return total * mpmath.npdf(x)

    expected = mpmath.quad(integrand, [-40, -3, 0, 3, 40])
    assert abs(numeric_value(free_entropy.Psi_out, point) - expected) < mpmath.mpf(10) ** -25


def test_prior_saddle_points_match_hand(free_entropy):
    # -2 d_qhat, -2 d_Qhat and d_mhat of hand_Psi_w, differentiated by hand.
    equations = free_entropy.saddle_point_equations
    D = 1 + (Qhat + s.qhat) * s.rho
    assert sp.simplify(equations[s.q].rhs - s.rho**2 * (mhat**2 * s.rho + s.qhat) / D**2) == 0
    assert sp.simplify(equations[Q].rhs - (s.rho**2 * (mhat**2 * s.rho + s.qhat) / D**2 + s.rho / D)) == 0
    assert sp.simplify(equations[m].rhs - mhat * s.rho**2 / D) == 0


def test_output_saddle_point_is_derivative(free_entropy):
    # qhat = -2 alpha d_q Psi_out, against a numerical derivative of Psi_out at 30 digits.
    mpmath.mp.dps = 30
    point = dict(GENERAL_POINT)
    q0 = point.pop(s.q)

    def Psi_out(q):
        return numeric_value(free_entropy.Psi_out, {**point, s.q: sp.Float(q, 50)}, dps=45)

    # A central difference with step 1e-12 has a truncation error near 1e-24 and, with Psi_out at
    # 45 digits, a rounding error near 1e-33.
    slope = mpmath.diff(Psi_out, mpmath.mpf(q0.p) / q0.q, h=mpmath.mpf(10) ** -12)
    expected = -2 * numeric_value(s.alpha, point) * slope
    derived = numeric_value(free_entropy.saddle_point_equations[s.qhat].rhs, GENERAL_POINT)
    assert abs(derived - expected) < mpmath.mpf(10) ** -20


def test_nishimori_substitution_reduces_phi(free_entropy):
    # -m mhat + Q Qhat / 2 + q qhat / 2 at m = q, mhat = qhat, Qhat = 0 is -q qhat / 2, and
    # Psi_w(qhat) = (qhat rho - log(1 + qhat rho)) / 2 for the Gaussian prior.
    Phi, _ = free_entropy.bayes_optimal
    expected_without_output = -s.q * s.qhat / 2 + (s.qhat * s.rho - sp.log(1 + s.qhat * s.rho)) / 2
    output_part = Phi - expected_without_output
    assert sp.simplify(output_part.subs(s.alpha, 0)) == 0


def test_bayes_optimal_equations_close(free_entropy):
    _, rhs = free_entropy.bayes_optimal
    assert sp.simplify(rhs[Q] - s.rho) == 0
    assert sp.simplify(rhs[s.q] - s.rho**2 * s.qhat / (1 + s.rho * s.qhat)) == 0
    assert sp.simplify(rhs[m] - rhs[s.q]) == 0


def test_qhat_equation_by_parts_has_no_explicit_xi(free_entropy):
    # After integration by parts the integrand is a sum of Gaussian-over-Phi ratios: xi appears
    # only inside exp and ndtr.
    integrand = integrand_of(free_entropy.qhat_equation_by_parts)
    for term in sp.Add.make_args(sp.expand_mul(integrand)):
        explicit = [factor for factor in sp.Mul.make_args(term) if factor == s.xi or (factor.is_Pow and factor.base == s.xi)]
        assert explicit == [], term


@pytest.mark.parametrize("power", [1, 2, 3, 4])
def test_integration_by_parts_keeps_moments(power):
    # E[xi^k cos(xi)] for xi ~ N(0, 1), by quadrature, before and after the rewrite.
    integral = sp.Integral(s.xi**power * sp.cos(s.xi) * standard_normal_pdf(s.xi), (s.xi, -sp.oo, sp.oo))
    rewritten = gaussian_integration_by_parts(integral)
    assert not integrand_of(rewritten).has(s.xi**power) or power == 1
    assert abs(numeric_value(rewritten) - numeric_value(integral)) < mpmath.mpf(10) ** -25


def test_binary_prior_keeps_Psi_w_as_integral():
    prior = Prior(name="binary", point_masses=((-1, sp.Rational(1, 2)), (1, sp.Rational(1, 2))), second_moment=1)
    free_entropy = rs_free_entropy(Model(sign_channel(), prior))
    assert free_entropy.Psi_w.has(sp.Integral)
    # Psi_w at the Nishimori point, by hand: E_{w*, xi}[log cosh(qhat w* + sqrt(qhat) xi)] - qhat / 2.
    mpmath.mp.dps = 30
    qhat = mpmath.mpf("0.7")
    expected = mpmath.quad(lambda x: mpmath.log(mpmath.cosh(qhat + mpmath.sqrt(qhat) * x)) * mpmath.npdf(x),
                           [-40, -3, 0, 3, 40]) - qhat / 2
    point = {Qhat: 0, mhat: sp.Rational(7, 10), s.qhat: sp.Rational(7, 10)}
    assert abs(numeric_value(free_entropy.Psi_w, point) - expected) < mpmath.mpf(10) ** -25
