"""Replica-symmetric free entropy, its saddle-point equations and the Bayes-optimal fixed point.

In the Bayes-optimal setting the Nishimori identities give m = q, Q = rho, Qhat = 0, mhat = qhat,
and the RS free entropy reduces to

    Phi(q, qhat) = -q qhat / 2 + Psi_w(qhat) + alpha Psi_out(q),
    Psi_w(qhat) = E_xi[ Z_w(sqrt(qhat) xi, qhat) log Z_w(sqrt(qhat) xi, qhat) ],
    Psi_out(q)  = sum_y E_xi[ Z_out(y, sqrt(q) xi, rho - q) log Z_out(y, sqrt(q) xi, rho - q) ],

with xi ~ N(0, 1). For real labels the sum over y is an integral over the real line, done in
closed form where the rules of ``replica_tools.symbolic.gaussian`` apply and left unevaluated
otherwise; the objects left unevaluated are listed in the ``numeric`` field of the results. Its stationarity conditions are q = 2 d Psi_w / d qhat and
qhat = 2 alpha d Psi_out / d q; integrating by parts turns them into the state-evolution form

    qhat = alpha sum_y E_xi[ Z_out f_out^2 ],    q = E_xi[ Z_w f_w^2 ],

which is what GAMP's state evolution iterates. Both forms are derived here, and a test checks
numerically that they agree.
"""

from dataclasses import dataclass

import sympy as sp

from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.gaussian import closed_form_over_line, integrate_over_line, standard_normal_pdf


def gaussian_expectation(integrand, var=s.xi):
    """Return E_var[integrand] for var ~ N(0, 1), as an unevaluated integral."""
    return sp.Integral(integrand * standard_normal_pdf(var), (var, -sp.oo, sp.oo))


def _at_overlap(expr, rho):
    """Substitute the Bayes-optimal arguments omega = sqrt(q) xi, V = rho - q."""
    return expr.subs({s.omega: sp.sqrt(s.q) * s.xi, s.V: rho - s.q})


def _sum_over_labels(channel, term_of_label, name, numeric):
    """Return sum_y term(y) over a finite label set, or int dy term(y) for real labels.

    The integral is taken in (omega, V), where the symbol V is declared positive. It is left
    unevaluated where no rule gives a closed form, and ``name`` is then appended to ``numeric``.
    """
    if not channel.continuous:
        return sp.Add(*(term_of_label(label) for label in channel.labels))
    integrand = term_of_label(s.y)
    result = closed_form_over_line(integrand, s.y)
    if result is None:
        numeric.append(name)
        return sp.Integral(integrand, (s.y, -sp.oo, sp.oo))
    return sp.simplify(result)


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
    unevaluated integral otherwise. ``numeric`` names the output-side objects left as integrals.
    """

    qhat_integrand: sp.Expr
    q_of_qhat: sp.Expr
    numeric: tuple = ()


def qhat_integrand_in_V(model):
    """Return (sum_y Z_out f_out^2 at omega = sqrt(q) xi, as a function of xi, q and V; numeric).

    V stays a symbol of its own. Numerical code passes it in full precision, because
    rho - q computed from q loses the digits of V as q tends to rho. ``numeric`` names the
    objects left as integrals.
    """
    output = model.output
    numeric = []
    over_labels = _sum_over_labels(
        model.channel, lambda label: output.Z_out[label] * output.f_out[label] ** 2,
        "qhat: int dy Z_out f_out^2", numeric,
    )
    return over_labels.subs(s.omega, sp.sqrt(s.q) * s.xi), tuple(numeric)


def state_evolution_equations(model, derive_q=True):
    """Derive the Bayes-optimal state-evolution map of ``model``.

    With ``derive_q=False`` q_of_qhat is None: a caller that computes q(qhat) by quadrature skips
    SymPy's search for a closed form, which takes 25 s before it fails for a binary prior.
    """
    rho = model.rho

    qhat_integrand, numeric = qhat_integrand_in_V(model)
    qhat_integrand = qhat_integrand.subs(s.V, rho - s.q)
    q_of_qhat = teacher_expectation(model.prior, model.input.f_w**2) if derive_q else None
    # The per-label terms stay apart: each is a Gaussian-over-Phi ratio that compiles stably.
    return FixedPointEquations(qhat_integrand, q_of_qhat, numeric)


@dataclass(frozen=True)
class FreeEntropy:
    """The Bayes-optimal RS free entropy Phi(q, qhat) and its parts.

    ``numeric`` names the parts left as integrals over y because no rule gave a closed form.
    """

    Psi_w: sp.Expr
    Psi_out: sp.Expr
    Phi: sp.Expr
    numeric: tuple = ()

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
    numeric = []

    def Z_log_Z(label):
        return output.Z_out[label] * sp.expand_log(sp.log(output.Z_out[label]), force=True)

    if model.channel.continuous:
        over_labels = _sum_over_labels(model.channel, Z_log_Z, "Psi_out: int dy Z_out log Z_out", numeric)
        Psi_out = gaussian_expectation(_at_overlap(over_labels, rho))
    else:
        # One Gaussian expectation per label, as the saddle-point tests take them apart.
        Psi_out = sp.Add(*(gaussian_expectation(_at_overlap(Z_log_Z(label), rho)) for label in model.channel.labels))
    Phi = -s.q * s.qhat / 2 + Psi_w + s.alpha * Psi_out
    return FreeEntropy(Psi_w, Psi_out, Phi, tuple(numeric))


def generalization_errors(rho=s.rho):
    """Return (eps_Bayes, eps_Gibbs) of the sign teacher as functions of the overlap q.

    The student's prediction sign(x . w_hat) disagrees with sign(x . w*) with probability
    arccos(cos angle)/pi; the posterior mean has overlap q and norm q (Nishimori), a Gibbs sample
    has overlap q and norm rho.
    """
    eps_bayes = sp.acos(sp.sqrt(s.q / rho)) / sp.pi
    eps_gibbs = sp.acos(s.q / rho) / sp.pi
    return eps_bayes, eps_gibbs
