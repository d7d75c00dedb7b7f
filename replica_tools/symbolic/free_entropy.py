"""The replica-symmetric free entropy with six order parameters, and its saddle-point equations.

For a channel P_out and a prior P_0 (student and teacher alike, unless a teacher model is given)

    Phi_RS = -m mhat + Q Qhat / 2 + q qhat / 2 + Psi_w(Qhat, mhat, qhat) + alpha Psi_out(Q, m, q),
    Psi_w   = E_xi[ Z_w*(mhat xi / sqrt(qhat), mhat^2 / qhat) log Z_w(sqrt(qhat) xi, Qhat + qhat) ],
    Psi_out = sum_y E_xi[ Z_out*(y, m xi / sqrt(q), rho - m^2 / q) log Z_out(y, sqrt(q) xi, Q - q) ],

with xi ~ N(0, 1) and Z_w(gamma, Lambda) = E_w[exp(gamma w - Lambda w^2 / 2)]. The saddle-point
equations are the stationarity conditions, each solved for the parameter it is linear in:

    Q = -2 d_Qhat Psi_w,  q = -2 d_qhat Psi_w,  m = d_mhat Psi_w,
    Qhat = -2 alpha d_Q Psi_out,  qhat = -2 alpha d_q Psi_out,  mhat = alpha d_m Psi_out.

SymPy differentiates under the integral sign. The Bayes-optimal reduction (Nishimori: Q = rho,
Qhat = 0, m = q, mhat = qhat) is a substitution applied to Phi_RS and to the equations.
"""

import logging
from dataclasses import dataclass
from functools import cached_property

import sympy as sp

from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.channel import derive_partition_function
from replica_tools.symbolic.gaussian import integrate_over_line, standard_normal_pdf

logger = logging.getLogger(__name__)

# Order parameters beyond q and qhat: the self-overlap Q, the teacher-student overlap m, and
# their conjugates. Qhat multiplies -w^2 / 2 in the tilt, so its sign is not fixed.
Q = sp.Symbol("Q", positive=True)
Qhat = sp.Symbol("Qhat", real=True)
m = sp.Symbol("m", real=True)
mhat = sp.Symbol("mhat", real=True)

ORDER_PARAMETERS = (Q, Qhat, s.q, s.qhat, m, mhat)

# Each conjugate pair: (parameter, conjugate, coefficient of the pair in Phi_RS).
PAIRS = ((Q, Qhat, sp.Rational(1, 2)), (s.q, s.qhat, sp.Rational(1, 2)), (m, mhat, sp.Integer(-1)))


def gaussian_expectation(integrand, var=s.xi):
    """Return E_var[integrand] for var ~ N(0, 1) as an unevaluated integral over the line."""
    return sp.Integral(integrand * standard_normal_pdf(var), (var, -sp.oo, sp.oo))


def nishimori_substitution(rho):
    """Return the Bayes-optimal values of Q, Qhat, m, mhat in terms of q, qhat and the teacher's rho."""
    return {Q: rho, Qhat: sp.Integer(0), m: s.q, mhat: s.qhat}


def _sum_over_labels(channel, term_of_label):
    """Sum ``term_of_label(y)`` over a finite label set, or integrate it over y on the line."""
    if not channel.continuous:
        return sp.Add(*(term_of_label(label) for label in channel.labels))
    return sp.Integral(term_of_label(s.y), (s.y, -sp.oo, sp.oo))


def _partition_function(model, label):
    table = model.output.Z_out
    if label in table:
        return table[label]
    return derive_partition_function(model.channel, label)


def _log_is_quadratic(expr, var):
    """Tell whether log(expr) is a polynomial of degree at most 2 in ``var``."""
    log_expr = sp.expand(sp.expand_log(sp.log(expr), force=True))
    return log_expr.is_polynomial(var) and sp.degree(log_expr, var) <= 2


def psi_w_integral(student, teacher):
    """Psi_w as written: a Gaussian expectation of Z_w* log Z_w, left unevaluated."""
    teacher_Z = teacher.input.Z_w.subs({s.gamma: mhat * s.xi / sp.sqrt(s.qhat), s.Lambda: mhat**2 / s.qhat},
                                       simultaneous=True)
    student_Z = student.input.Z_w.subs({s.gamma: sp.sqrt(s.qhat) * s.xi, s.Lambda: Qhat + s.qhat},
                                       simultaneous=True)
    return gaussian_expectation(teacher_Z * sp.log(student_Z))


def psi_w_closed_form(student, teacher):
    """Psi_w through the teacher's law, in closed form where log Z_w is quadratic in gamma.

    Z_w*(mhat xi / sqrt(qhat), mhat^2 / qhat) N(xi) is the density of xi after averaging
    exp(mhat xi w* / sqrt(qhat) - mhat^2 w*^2 / (2 qhat)) over w* ~ P_0*. That factor shifts xi by
    mhat w* / sqrt(qhat), so Psi_w = E_{w*, xi}[log Z_w(mhat w* + sqrt(qhat) xi, Qhat + qhat)].
    For a Gaussian student prior log Z_w is quadratic in gamma and both averages are moments.
    Returns None when log Z_w is not quadratic (SymPy would then search long for no closed form).
    """
    if not _log_is_quadratic(student.input.Z_w, s.gamma):
        return None
    log_Z = sp.expand(sp.expand_log(sp.log(student.input.Z_w), force=True))
    field = mhat * s.w + sp.sqrt(s.qhat) * s.xi
    integrand = sp.expand(log_Z.subs({s.gamma: field, s.Lambda: Qhat + s.qhat}, simultaneous=True))
    over_noise = integrate_over_line(integrand * standard_normal_pdf(s.xi), s.xi)
    return sp.simplify(teacher.prior.expectation(sp.expand(over_noise)))


def psi_out_integral(student, teacher):
    """Psi_out as written: per label, a Gaussian expectation of Z_out* log Z_out, unevaluated."""
    rho = teacher.rho

    def term(label):
        teacher_Z = _partition_function(teacher, label).subs(
            {s.omega: m * s.xi / sp.sqrt(s.q), s.V: rho - m**2 / s.q}, simultaneous=True)
        student_Z = _partition_function(student, label).subs(
            {s.omega: sp.sqrt(s.q) * s.xi, s.V: Q - s.q}, simultaneous=True)
        return gaussian_expectation(teacher_Z * sp.log(student_Z))

    return _sum_over_labels(student.channel, term)


@dataclass(frozen=True)
class SaddlePointEquation:
    """One stationarity condition d Phi_RS / d ``conjugate`` = 0, solved as ``parameter = rhs``."""

    parameter: sp.Symbol
    conjugate: sp.Symbol
    rhs: sp.Expr

    @property
    def equation(self):
        return sp.Eq(self.parameter, self.rhs, evaluate=False)


@dataclass(frozen=True)
class RSFreeEntropy:
    """Phi_RS(Q, Qhat, q, qhat, m, mhat) of a model, its parts and its saddle-point equations.

    ``Psi_w_integral`` and ``Psi_out`` are Gaussian expectations as written in the replica
    formula. ``Psi_w`` is the closed form where one exists and the integral otherwise, and
    ``Phi`` is built from it.
    """

    model: object
    teacher: object
    Psi_w_integral: sp.Expr
    Psi_w: sp.Expr
    Psi_out: sp.Expr
    Phi: sp.Expr

    @property
    def rho(self):
        return self.teacher.rho

    @cached_property
    def saddle_point_equations(self):
        """The six stationarity conditions, as ``SaddlePointEquation`` keyed by parameter.

        d Phi / d conjugate is linear in the parameter of the pair (the bilinear term), so each
        condition is solved by isolating that term: parameter = -(rest) / coefficient.
        """
        equations = {}
        for parameter, conjugate, coefficient in PAIRS:
            for unknown, variable in ((parameter, conjugate), (conjugate, parameter)):
                derivative = sp.diff(self.Phi, variable)
                rest = derivative.subs(unknown, 0)
                equations[unknown] = SaddlePointEquation(unknown, variable, -rest / coefficient)
        return equations

    @cached_property
    def bayes_optimal(self):
        """Phi_RS and the six equations after the Nishimori substitution, in (q, qhat).

        Returns (Phi, {parameter: rhs}). For a consistent reduction the Q equation gives rho,
        the Qhat equation 0, and the m and mhat equations the same as the q and qhat ones.
        """
        substitution = nishimori_substitution(self.rho)
        Phi = self.Phi.subs(substitution)
        right_hand_sides = {parameter: equation.rhs.subs(substitution)
                            for parameter, equation in self.saddle_point_equations.items()}
        return Phi, right_hand_sides

    @cached_property
    def qhat_equation_by_parts(self):
        """The Bayes-optimal qhat equation -2 alpha d_q Psi_out after Gaussian integration by parts.

        The derivative brings down factors of xi from Z_out*(y, m xi / sqrt(q), ...) and from
        log Z_out(y, sqrt(q) xi, ...). Integrating them by parts leaves expectations of squared
        ratios, which is the form alpha E_xi[sum_y Z_out f_out^2] of the state evolution.
        """
        rhs = self.bayes_optimal[1][s.qhat]
        return gaussian_integration_by_parts(rhs, sign_substitution={s.q: self.rho - s.V})

    def gradient(self):
        """Return the six partial derivatives of Phi_RS, keyed by order parameter."""
        return {parameter: sp.diff(self.Phi, parameter) for parameter in ORDER_PARAMETERS}


def rs_free_entropy(model, teacher=None):
    """Derive Phi_RS with six order parameters for ``model`` (the teacher defaults to the model)."""
    teacher = model if teacher is None else teacher
    Psi_w_integral = psi_w_integral(model, teacher)
    Psi_w = psi_w_closed_form(model, teacher)
    if Psi_w is None:
        logger.debug("prior %s: Psi_w has no closed form, kept as an integral", model.prior.name)
        Psi_w = Psi_w_integral
    Psi_out = psi_out_integral(model, teacher)
    Phi = -m * mhat + Q * Qhat / 2 + s.q * s.qhat / 2 + Psi_w + s.alpha * Psi_out
    return RSFreeEntropy(model, teacher, Psi_w_integral, Psi_w, Psi_out, Phi)


def integrand_of(expr, var=s.xi):
    """Return the integrand of a linear combination of integrals over ``var`` on the line.

    By linearity, ``expr`` equals the integral of the result over the line.
    """
    def take(integral):
        if len(integral.limits) != 1:
            raise ValueError(f"{integral} is an integral over {len(integral.limits)} variables")
        (variable, lower, upper), = integral.limits
        if variable != var or lower != -sp.oo or upper != sp.oo:
            raise ValueError(f"{integral} is not an integral over {var} on the real line")
        return integral.function

    return expr.replace(lambda e: isinstance(e, sp.Integral), take)


def gaussian_integration_by_parts(expr, var=s.xi, sign_substitution=None, max_rounds=4):
    """Apply Gaussian integration by parts inside every integral over ``var`` on the real line.

    In each term of an integrand, the exponential factors are collected into exp(c var^2 + ...)
    and the explicit powers of ``var`` in front are taken out. With c < 0,
    int var exp(c var^2) h = -1 / (2 c) int exp(c var^2) h' (Stein's lemma when c = -1/2), so
    a term var^k exp(c var^2) g becomes -1 / (2 c) exp(c var^2) d/dvar[var^(k-1) g]. This is the
    step that turns d_q Psi_out into expectations of f_out^2. A term whose quadratic coefficient
    SymPy cannot show negative is left as it is, and so are terms that still carry a power of
    ``var`` after ``max_rounds`` steps. ``sign_substitution`` is applied to c only to decide
    its sign, for example q = rho - V with V > 0 where the integrand has V = rho - q.
    """
    def split(term):
        power, exponent, rest = sp.Integer(0), sp.Integer(0), []
        for factor in sp.Mul.make_args(term):
            if factor == var:
                power += 1
            elif factor.is_Pow and factor.base == var and factor.exp.is_Integer and factor.exp > 0:
                power += factor.exp
            elif isinstance(factor, sp.exp):
                exponent += factor.args[0]
            else:
                rest.append(factor)
        return power, sp.expand(exponent), sp.Mul(*rest)

    def reduce_term(term, rounds):
        power, exponent, rest = split(term)
        if power == 0 or rounds == 0:
            return term
        c = exponent.coeff(var, 2)
        if not sp.simplify(c.subs(sign_substitution or {})).is_negative:
            return term
        weight = sp.exp(c * var**2)
        g = var ** (power - 1) * rest * sp.exp(exponent - c * var**2)
        lowered = sp.expand_mul(-weight * sp.diff(g, var) / (2 * c))
        return sp.Add(*(reduce_term(part, rounds - 1) for part in sp.Add.make_args(lowered)))

    def rewrite(integral):
        # An integral over xi and y together (real labels) is left as it is.
        if len(integral.limits) != 1:
            return integral
        (variable, lower, upper), = integral.limits
        if variable != var or lower != -sp.oo or upper != sp.oo:
            return integral
        terms = sp.Add.make_args(sp.expand_mul(integral.function))
        return sp.Integral(sp.Add(*(reduce_term(term, max_rounds) for term in terms)), (var, -sp.oo, sp.oo))

    return expr.replace(lambda e: isinstance(e, sp.Integral), rewrite)
