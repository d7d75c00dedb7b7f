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
    ``Z_w(gamma, Lambda)``, ``f_w_replica(gamma, Lambda)``, ``variance_replica(gamma, Lambda)``.
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

        inputs = model.input
        self.f_w = compile_numpy(_substitute_rho(inputs.f_w_gamp, rho), (s.Sigma, s.R))
        self.variance_w = compile_numpy(_substitute_rho(inputs.variance_gamp, rho), (s.Sigma, s.R))
        replica_args = (s.gamma, s.Lambda)
        self.Z_w = compile_numpy(_substitute_rho(inputs.Z_w, rho), replica_args)
        self.f_w_replica = compile_numpy(_substitute_rho(inputs.f_w, rho), replica_args)
        self.variance_replica = compile_numpy(_substitute_rho(inputs.variance, rho), replica_args)


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
