"""Replica-symmetric free entropy, its saddle-point equations and the Bayes-optimal fixed point.

In the Bayes-optimal setting the Nishimori identities give m = q, Q = rho, Qhat = 0, mhat = qhat,
and the RS free entropy reduces to

    Phi(q, qhat) = -q qhat / 2 + Psi_w(qhat) + alpha Psi_out(q),
    Psi_w(qhat) = E_xi[ Z_w(sqrt(qhat) xi, qhat) log Z_w(sqrt(qhat) xi, qhat) ],
    Psi_out(q)  = sum_y E_xi[ Z_out(y, sqrt(q) xi, rho - q) log Z_out(y, sqrt(q) xi, rho - q) ],

with xi ~ N(0, 1). Its stationarity conditions are q = 2 d Psi_w / d qhat and
qhat = 2 alpha d Psi_out / d q; integrating by parts turns them into the state-evolution form

    qhat = alpha sum_y E_xi[ Z_out f_out^2 ],    q = E_xi[ Z_w f_w^2 ],

which is what GAMP's state evolution iterates. Both forms are derived here, and a test checks
numerically that they agree.
"""

from dataclasses import dataclass

import sympy as sp

from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.gaussian import integrate_over_line, standard_normal_pdf


def gaussian_expectation(integrand, var=s.xi):
    """Return E_var[integrand] for var ~ N(0, 1), as an unevaluated integral."""
    return sp.Integral(integrand * standard_normal_pdf(var), (var, -sp.oo, sp.oo))


def _output_at_overlap(table, label, rho):
    """Substitute the Bayes-optimal arguments omega = sqrt(q) xi, V = rho - q."""
    return table[label].subs({s.omega: sp.sqrt(s.q) * s.xi, s.V: rho - s.q})


def teacher_expectation(prior, function_of_gamma):
    """Return E_xi[Z_w(sqrt(qhat) xi, qhat) g(sqrt(qhat) xi)] through the teacher's law.

    Under the teacher, gamma = qhat w* + sqrt(qhat) xi' with w* ~ P_0 and xi' ~ N(0, 1), and the
    density of gamma is N(gamma; 0, qhat) Z_w(gamma, qhat). Integrating over xi' and then over
    the prior keeps each integral a Gaussian one, which SymPy does quickly and without
    convergence conditions. The direct form, with Z_w in the integrand, did not finish in 5
    minutes with SymPy 1.14.
    """
    teacher_field = s.qhat * s.w + sp.sqrt(s.qhat) * s.xi
    integrand = sp.expand(function_of_gamma.subs({s.gamma: teacher_field, s.Lambda: s.qhat}))
    over_noise = integrate_over_line(integrand * standard_normal_pdf(s.xi), s.xi)
    return sp.simplify(prior.expectation(over_noise))


@dataclass(frozen=True)
class FixedPointEquations:
    """The Bayes-optimal state-evolution map, as expressions.

    ``qhat_integrand`` is the function of (xi, q) whose Gaussian expectation, times alpha, is
    qhat. ``q_of_qhat`` is q as a function of qhat: a closed form when SymPy finds one, and an
    unevaluated integral otherwise.
    """

    qhat_integrand: sp.Expr
    q_of_qhat: sp.Expr


def state_evolution_equations(model, derive_q=True):
    """Derive the Bayes-optimal state-evolution map of ``model``.

    With ``derive_q=False`` q_of_qhat is None: a caller that computes q(qhat) by quadrature skips
    SymPy's search for a closed form, which takes 25 s before it fails for a binary prior.
    """
    rho = model.rho
    output = model.output

    qhat_integrand = sp.Add(*(
        _output_at_overlap(output.Z_out, label, rho) * _output_at_overlap(output.f_out, label, rho) ** 2
        for label in model.channel.labels
    ))
    q_of_qhat = teacher_expectation(model.prior, model.input.f_w**2) if derive_q else None
    # The per-label terms stay apart: each is a Gaussian-over-Phi ratio that compiles stably.
    return FixedPointEquations(qhat_integrand, q_of_qhat)


@dataclass(frozen=True)
class FreeEntropy:
    """The Bayes-optimal RS free entropy Phi(q, qhat) and its parts."""

    Psi_w: sp.Expr
    Psi_out: sp.Expr
    Phi: sp.Expr

    def saddle_point_equations(self):
        """Return (q = 2 d Psi_w/d qhat, qhat = 2 alpha d Psi_out/d q) as SymPy equalities."""
        return (
            sp.Eq(s.q, 2 * sp.diff(self.Psi_w, s.qhat)),
            sp.Eq(s.qhat, 2 * s.alpha * sp.diff(self.Psi_out, s.q)),
        )


def rs_free_entropy(model):
    """Derive the Bayes-optimal replica-symmetric free entropy of ``model``."""
    rho = model.rho
    output, inputs = model.output, model.input

    Psi_w = teacher_expectation(model.prior, sp.expand_log(sp.log(inputs.Z_w), force=True))
    Psi_out = sp.Add(*(
        gaussian_expectation(
            _output_at_overlap(output.Z_out, label, rho) * sp.log(_output_at_overlap(output.Z_out, label, rho))
        )
        for label in model.channel.labels
    ))
    Phi = -s.q * s.qhat / 2 + Psi_w + s.alpha * Psi_out
    return FreeEntropy(Psi_w, Psi_out, Phi)


def generalization_errors(rho=s.rho):
    """Return (eps_Bayes, eps_Gibbs) of the sign teacher as functions of the overlap q.

    The student's prediction sign(x . w_hat) disagrees with sign(x . w*) with probability
    arccos(cos angle)/pi; the posterior mean has overlap q and norm q (Nishimori), a Gibbs sample
    has overlap q and norm rho.
    """
    eps_bayes = sp.acos(sp.sqrt(s.q / rho)) / sp.pi
    eps_gibbs = sp.acos(s.q / rho) / sp.pi
    return eps_bayes, eps_gibbs
