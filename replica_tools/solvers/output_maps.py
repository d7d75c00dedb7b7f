"""The output side of the state evolution: qhat = alpha E_xi[ int dy Z_out f_out^2 ] at q = rho - V.

For a finite label set the integral over y is the sum over labels, and the integrand is the one
derived by ``replica_tools.symbolic.replica.qhat_integrand_in_V``, with V kept as a symbol. For
real labels the derivation may also give the y integral in closed form, as for the linear
channel. Otherwise the integral is computed here by quadrature:

    int dy Z_out(y) f_out(y)^2 = sum_k E_t[ weight_k(mean_k + sd_k t) f_out(mean_k + sd_k t)^2 ],

with Z_out(y) = sum_k weight_k(y) N(y; mean_k, sd_k^2) written term by term by
``replica_tools.symbolic.gaussian.gaussian_terms``, and t ~ N(0, 1) integrated by Gauss-Hermite.
Each term's rule sits on that term's own Gaussian in y, so it follows Z_out as it narrows.

The expectation over xi uses the rescaled rule of ``replica_tools.numerics.quadrature``. The
scale comes from the channel: the integrand varies in omega on the smallest scale among the Phi
arguments of Z_out, w = 1 / |d_omega x| (w^2 = V for the sign channel, V + sigma^2 for probit),
so in xi, with omega = sqrt(q) xi, on w / sqrt(q); the scale is sqrt(w^2 / (q + w^2)). A Z_out
without Phi has no narrow feature in omega and gets the plain rule (scale 1).
"""

import numpy as np
import sympy as sp

from replica_tools.numerics.compiled import compile_numpy
from replica_tools.numerics.output import OutputFunctionsNumpy
from replica_tools.numerics.quadrature import gaussian_expectation, hermite_rule
from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.gaussian import gaussian_terms
from replica_tools.symbolic.identities import ndtr
from replica_tools.symbolic.replica import qhat_integrand_in_V

# Gauss-Hermite nodes per Gaussian term of Z_out in y. Within one term's frame the integrand has
# a step where another term takes over (at y = 0 for the noisy sign channel, of width about
# Delta / 2), which the rule must resolve: for the noisy sign channel, against a composite
# Gauss-Legendre reference, the relative error of E_xi[...] was 7e-6 with 40 nodes, 6e-9 with 80,
# and at most 2.5e-8 with 80 over Delta from 0.01 to 3 and V down to 1e-3 (measured).
LABEL_NODES = 80


def _omega_widths_squared(output):
    """Return the expressions w^2 = 1 / (d_omega x)^2 in V over the Phi arguments x of Z_out.

    Only arguments linear in omega enter, and only those whose slope depends on V alone.
    """
    widths = set()
    for Z_out in output.Z_out.values():
        for function in Z_out.atoms(ndtr):
            slope = sp.diff(function.args[0], s.omega)
            if slope.has(s.omega) or slope == 0 or not slope.free_symbols <= {s.V, s.rho}:
                continue
            widths.add(sp.simplify(1 / slope**2))
    return sorted(widths, key=sp.default_sort_key)


class OutputMap:
    """E_xi[ int dy Z_out f_out^2 ] as a NumPy function of (q, V), for one model at a numeric rho."""

    def __init__(self, model, rho):
        self._model, self._rho = model, rho
        self._terms = None
        rho_value = sp.nsimplify(rho)
        integrand, numeric = qhat_integrand_in_V(model)
        self.numeric_labels = bool(numeric)

        widths = _omega_widths_squared(model.output)
        self._widths = [compile_numpy(width.subs(s.rho, rho_value), (s.V,)) for width in widths]

        if not integrand.has(sp.Integral):
            # q and V = rho - q are both passed in full precision.
            self._integrand = compile_numpy(integrand.subs(s.rho, rho_value), (s.xi, s.q, s.V))
            return

        self._output = OutputFunctionsNumpy(model, rho)
        if not self.numeric_labels:
            # A finite label set whose Z_out has no closed form: the compiled Z_out and f_out
            # come from quadrature over z, and are summed over the labels here.
            self._integrand = self._sum_over_finite_labels
            return
        self._terms = self._label_terms()

    def _label_terms(self):
        """Compile the (weight, mean, sd) triples of Z_out's Gaussian terms in y (real labels)."""
        model, rho_value = self._model, sp.nsimplify(self._rho)
        if model.output.Z_out[s.y].has(sp.Integral):
            raise NotImplementedError(
                f"channel {model.channel.name}: the integral over real labels needs Z_out in closed form, "
                "and the derivation found none")
        return [
            tuple(compile_numpy(expr.subs(s.rho, rho_value), (s.y, s.omega, s.V))
                  for expr in (weight, mean, sp.sqrt(variance)))
            for weight, mean, variance in gaussian_terms(model.output.Z_out[s.y], s.y)
        ]

    def scale(self, q, V):
        """Return the scale of the xi rule at (q, V)."""
        if not self._widths:
            return np.ones(np.broadcast(q, V).shape)
        width_squared = np.minimum.reduce([np.broadcast_to(width(V), np.shape(V)) for width in self._widths])
        return np.sqrt(width_squared / (q + width_squared))

    def _sum_over_finite_labels(self, xi, q, V):
        omega = np.sqrt(q) * xi
        V = np.broadcast_to(V, omega.shape)
        return sum(self._output.Z_out_at[label](omega, V) * self._output.f_out_at[label](omega, V) ** 2
                   for label in self._output.labels)

    def label_integral(self, function, omega, V):
        """Return int dy Z_out(y, omega, V) function(y, omega, V) for real labels.

        The integral is taken by Gauss-Hermite per Gaussian term of Z_out in y. ``function`` is
        a vectorized NumPy function of (y, omega, V), such as the compiled f_out or log Z_out.
        Points where the product is not finite (Z_out underflowed to 0 times an infinite
        log Z_out) count as 0.
        """
        if self._terms is None:
            self._terms = self._label_terms()
        if not hasattr(self, "_output"):
            self._output = OutputFunctionsNumpy(self._model, self._rho)
        t, weights = hermite_rule(LABEL_NODES)
        t = t.reshape((-1,) + (1,) * np.ndim(omega))
        weights = weights.reshape(t.shape)
        total = 0.0
        for weight, mean, sd in self._terms:
            # y has a leading axis of nodes, and omega and V broadcast against it. The parts of
            # the integrand that do not depend on y are therefore evaluated once per (omega, V).
            y = mean(0.0, omega, V) + sd(0.0, omega, V) * t
            with np.errstate(invalid="ignore", over="ignore"):
                values = weight(y, omega, V) * function(y, omega, V)
            total = total + np.sum(weights * np.where(np.isfinite(values), values, 0.0), axis=0)
        return total

    def _label_integral(self, omega, V):
        """Return int dy Z_out(y, omega, V) f_out(y, omega, V)^2 for real labels."""
        f_out = self._output.f_out
        return self.label_integral(lambda y, omega, V: f_out(y, omega, V) ** 2, omega, V)

    def expectation(self, q, V):
        """Return E_xi[ int dy Z_out f_out^2 ] at q and V = rho - q (arrays of one shape)."""
        q, V = np.broadcast_arrays(np.asarray(q, dtype=float), np.asarray(V, dtype=float))
        if not self.numeric_labels:
            return gaussian_expectation(lambda xi: self._integrand(xi, q, V), self.scale(q, V))
        return gaussian_expectation(lambda xi: self._label_integral(np.sqrt(q) * xi, V), self.scale(q, V))
