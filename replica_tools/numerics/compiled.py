"""Derived expressions compiled into NumPy/SciPy functions and into mpmath functions.

Before compiling for floating point, every expression goes through
``replica_tools.symbolic.identities.stable_form``, which picks forms by rule (erfcx for
Gaussian-over-Phi ratios, log_ndtr for log Phi), so no channel-specific formula is typed here.
The mpmath versions use the same stable forms; mpmath has no overflow, but the forms still avoid
the cancellation in 1 - Phi(x).
"""

import mpmath
import numpy as np
import scipy.special
import sympy as sp

from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.identities import erfcx, stable_form
from replica_tools.symbolic.prior import derive_components


class erfcx_reciprocal(sp.Function):
    """1 / erfcx(x), a NumPy-only form: see ``_erfcx_reciprocal``."""


def _erfcx_reciprocal(x):
    """Return 1 / erfcx(x) without overflow.

    erfcx(x) overflows for x < -26.6 (x^2 > 709.8) while 1 / erfcx(x) = exp(-x^2) / erfc(x) is
    still a normal double down to x = -26.7, and erfc(x) lies in [1, 2] for x < 0, so that form
    loses nothing there. For x >= 0, 1 / erfcx(x) is used as it is.

    NOTE: for x < -26.6 the result is a subnormal double with fewer significant bits. A prefactor
    such as 1 / V^(3/2) at tiny V can lift the product back into the normal range with only
    about 8 correct digits (d_omega f_out at u = 37.9, V = 1e-12).
    """
    x = np.asarray(x, dtype=float)
    # np.where evaluates both branches; each one's overflow or 0/0 occurs only where it is unused.
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        return np.where(x < 0, np.exp(-x * x) / scipy.special.erfc(x), 1 / scipy.special.erfcx(x))


def _reciprocal_erfcx_powers(expr):
    """Rewrite erfcx(x)^(-k) as erfcx_reciprocal(x)^k."""
    return expr.replace(
        lambda e: e.is_Pow and isinstance(e.base, erfcx) and e.exp.is_negative,
        lambda e: erfcx_reciprocal(e.base.args[0]) ** (-e.exp),
    )


NUMPY_FUNCTIONS = {
    "ndtr": scipy.special.ndtr,
    "log_ndtr": scipy.special.log_ndtr,
    "erfcx": scipy.special.erfcx,
    "erfcx_reciprocal": _erfcx_reciprocal,
    "erfc": scipy.special.erfc,
    "erf": scipy.special.erf,
}

MPMATH_FUNCTIONS = {
    "ndtr": mpmath.ncdf,
    "log_ndtr": lambda x: mpmath.log(mpmath.ncdf(x)),
    # mpmath has an unbounded exponent range, so the product does not overflow.
    "erfcx": lambda x: mpmath.exp(x**2) * mpmath.erfc(x),
}


def compile_numpy(expr, args):
    """Compile ``expr`` in its stable form to a vectorized NumPy function of ``args``.

    Divisions by erfcx go through ``erfcx_reciprocal``, which stays finite where erfcx
    overflows. Overflow warnings of what remains (a product whose other factor is 0) are
    silenced.
    """
    stable = _reciprocal_erfcx_powers(stable_form(expr))
    function = sp.lambdify(args, stable, modules=[NUMPY_FUNCTIONS, "numpy"])

    def evaluate(*values):
        with np.errstate(over="ignore"):
            return function(*values)

    return evaluate


def compile_mpmath(expr, args):
    """Compile ``expr`` in its stable form to an mpmath function of ``args``.

    The function computes at the caller's ``mpmath.mp.dps``.
    """
    return sp.lambdify(args, stable_form(expr), modules=[MPMATH_FUNCTIONS, "mpmath"])


def _substitute_rho(expr, rho):
    return sp.sympify(expr).subs(s.rho, rho)


class NumpyModel:
    """The derived functions of a model, compiled for NumPy arrays at a numeric rho.

    Attributes are vectorized callables:
    ``Z_out(y, omega, V)``, ``log_Z_out``, ``f_out``, ``df_out`` (label array y, finite labels
    or real ones), ``Z_out_at[label](omega, V)`` and likewise per label of a finite set (see
    ``replica_tools.numerics.output``; ``labels`` is None for real labels),
    ``f_w(Sigma, R)``, ``variance_w(Sigma, R)`` (GAMP form),
    ``Z_w(gamma, Lambda)``, ``log_Z_w``, ``f_w_replica(gamma, Lambda)``, ``variance_replica(gamma, Lambda)``.
    For a prior with point masses the input functions come from ``MixtureInput``, also stored
    as ``components`` (None for other priors).
    """

    def __init__(self, model, rho=1.0):
        if not (np.isfinite(rho) and rho > 0):
            raise ValueError(f"rho = {rho} is invalid: the teacher second moment must be finite and > 0")
        self.model = model
        self.rho = float(rho)
        # The output side lives in its own module, which imports compile_numpy from this one.
        from replica_tools.numerics.output import OutputFunctionsNumpy

        output = OutputFunctionsNumpy(model, rho)
        self.labels = output.labels
        self.continuous_labels = output.continuous
        self.Z_out, self.log_Z_out = output.Z_out, output.log_Z_out
        self.f_out, self.df_out = output.f_out, output.df_out
        self.Z_out_at, self.log_Z_out_at = output.Z_out_at, output.log_Z_out_at
        self.f_out_at, self.df_out_at = output.f_out_at, output.df_out_at

        self._compile_input_side(model, rho)

    def _compile_input_side(self, model, rho):
        """Compile f_w, the variance, Z_w and log Z_w in the GAMP and the replica parametrization."""
        replica_args = (s.gamma, s.Lambda)
        # GAMP starts from the prior: its mean and variance.
        self.prior_mean = float(_substitute_rho(model.prior.mean, rho))
        self.prior_variance = self.rho - self.prior_mean**2
        if model.prior.is_mixture:
            mixture = MixtureInput(model.prior, rho)
            self.components = mixture
            self.log_Z_w = mixture.log_Z_w
            self.f_w_replica = mixture.f_w
            self.variance_replica = mixture.variance
            self.Z_w = mixture.Z_w
            self.f_w = mixture.f_w_gamp
            self.variance_w = mixture.variance_gamp
            return

        inputs = model.input
        self.components = None
        self.f_w = compile_numpy(_substitute_rho(inputs.f_w_gamp, rho), (s.Sigma, s.R))
        self.variance_w = compile_numpy(_substitute_rho(inputs.variance_gamp, rho), (s.Sigma, s.R))
        self.Z_w = compile_numpy(_substitute_rho(inputs.Z_w, rho), replica_args)
        log_Z_w = sp.expand(sp.expand_log(sp.log(_substitute_rho(inputs.Z_w, rho)), force=True))
        self.log_Z_w = compile_numpy(log_Z_w, replica_args)
        self.f_w_replica = compile_numpy(_substitute_rho(inputs.f_w, rho), replica_args)
        self.variance_replica = compile_numpy(_substitute_rho(inputs.variance, rho), replica_args)


class MixtureInput:
    """The input functions of a mixture prior (point masses, possibly with a density), for NumPy.

    Z_w is a sum of exponentials, one per component, whose exponents grow like 1 / Sigma: the
    derived closed form (cosh, tanh) overflows or cancels at small Sigma. The rule here applies
    to every mixture: the tilted measure has the component weights
    pi_c = softmax_c(log evidence_c), evaluated by log-sum-exp, and by the law of total variance

        f_w = sum_c pi_c mean_c,
        variance = sum_c pi_c variance_c + sum_{c < d} pi_c pi_d (mean_c - mean_d)^2,

    a sum of non-negative terms, which keeps its relative precision when the variance is tiny.
    Each component's log evidence, mean and variance come from ``derive_components``.
    """

    def __init__(self, prior, rho):
        self.components = derive_components(prior)
        replica_args = (s.gamma, s.Lambda)

        def compiled(expr):
            return compile_numpy(_substitute_rho(expr, rho), replica_args)

        self._log_evidence = [compiled(component.log_evidence) for component in self.components]
        self._mean = [compiled(component.mean) for component in self.components]
        self._variance = [compiled(component.variance) for component in self.components]
        self.weights = np.array([float(component.weight) for component in self.components])
        self.teacher_means = np.array([float(_substitute_rho(c.teacher_mean, rho)) for c in self.components])
        self.teacher_variances = np.array([float(_substitute_rho(c.teacher_variance, rho)) for c in self.components])

    def _evaluate(self, gamma, Lambda):
        """Return log Z_w, the component weights pi_c, means and variances (arrays over c first)."""
        gamma, Lambda = np.broadcast_arrays(np.asarray(gamma, dtype=float), np.asarray(Lambda, dtype=float))
        shape = gamma.shape
        log_evidence = np.empty((len(self.components),) + shape)
        means = np.empty_like(log_evidence)
        variances = np.empty_like(log_evidence)
        for c in range(len(self.components)):
            log_evidence[c] = self._log_evidence[c](gamma, Lambda)
            means[c] = self._mean[c](gamma, Lambda)
            variances[c] = self._variance[c](gamma, Lambda)
        # log-sum-exp: shifting by the largest exponent keeps every exp(...) in [0, 1].
        largest = log_evidence.max(axis=0)
        shifted = np.exp(log_evidence - largest)
        total = shifted.sum(axis=0)
        return largest + np.log(total), shifted / total, means, variances

    def log_Z_w(self, gamma, Lambda):
        """Return log Z_w(gamma, Lambda)."""
        return self._evaluate(gamma, Lambda)[0]

    def Z_w(self, gamma, Lambda):
        """Return Z_w(gamma, Lambda)."""
        return np.exp(self.log_Z_w(gamma, Lambda))

    def f_w(self, gamma, Lambda):
        """Return the mean of the tilted prior."""
        _, weights, means, _ = self._evaluate(gamma, Lambda)
        return np.sum(weights * means, axis=0)

    def variance(self, gamma, Lambda):
        """Return the variance of the tilted prior, as a sum of non-negative terms."""
        _, weights, means, variances = self._evaluate(gamma, Lambda)
        total = np.sum(weights * variances, axis=0)
        count = len(self.components)
        for c in range(count):
            for d in range(c + 1, count):
                total = total + weights[c] * weights[d] * (means[c] - means[d]) ** 2
        return total

    def f_w_gamp(self, Sigma, R):
        """Return f_w in the GAMP form, at gamma = R / Sigma and Lambda = 1 / Sigma."""
        Sigma = np.asarray(Sigma, dtype=float)
        return self.f_w(R / Sigma, 1 / Sigma)

    def variance_gamp(self, Sigma, R):
        """Return the variance in the GAMP form, at gamma = R / Sigma and Lambda = 1 / Sigma."""
        Sigma = np.asarray(Sigma, dtype=float)
        return self.variance(R / Sigma, 1 / Sigma)


class MpmathModel:
    """The derived functions of a model compiled for mpmath scalars, per label.

    ``rho`` may be any value mpmath accepts (a string keeps all its digits). Functions compute
    at the caller's ``mpmath.mp.dps``.
    """

    def __init__(self, model, rho=1):
        self.model = model
        self.rho = rho
        channel, output = model.channel, model.output
        rho_symbolic = sp.Rational(rho) if isinstance(rho, (int, str)) else sp.Float(rho, 50)
        # Real labels have one entry, under the key "y", that takes y as its first argument.
        self.labels = None if channel.continuous else tuple(int(label) for label in channel.labels)
        output_args = (s.y, s.omega, s.V) if channel.continuous else (s.omega, s.V)

        def key(label):
            return "y" if channel.continuous else int(label)

        def per_label(table):
            return {key(label): compile_mpmath(_substitute_rho(table[label], rho_symbolic), output_args)
                    for label in channel.label_keys}

        self.Z_out_at = per_label(output.Z_out)
        self.f_out_at = per_label(output.f_out)
        self.df_out_at = per_label(output.df_out)
        inputs = model.input
        self.f_w = compile_mpmath(_substitute_rho(inputs.f_w_gamp, rho_symbolic), (s.Sigma, s.R))
        self.variance_w = compile_mpmath(_substitute_rho(inputs.variance_gamp, rho_symbolic), (s.Sigma, s.R))
