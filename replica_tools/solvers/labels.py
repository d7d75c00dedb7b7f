"""Labels drawn from a channel's declared P_out(y | z), for teacher-student instances.

For a finite label set the probabilities P_out(y | z) of the declaration are compiled and a label
is drawn by inverting their cumulative sum. For real labels P_out(y | z) must be a mixture of
Gaussians in y with weights, means and variances that depend on z (possibly through step
functions), sum_k weight_k(z) N(y; mean_k(z), variance_k(z)); this is read off the declaration by
``replica_tools.symbolic.gaussian.gaussian_terms``, and a label is drawn by picking a term with
probability weight_k(z) and then a Gaussian. Every built-in channel with real labels has that
form; for another one ``label_sampler`` raises ValueError.
"""

from functools import lru_cache

import numpy as np
import sympy as sp

from replica_tools.numerics.compiled import NUMPY_FUNCTIONS
from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.gaussian import gaussian_terms


def _compile(expr):
    # SymPy passes Heaviside(0), 1/2 by default, as a second argument; z = 0 has probability zero.
    function = sp.lambdify(s.z, expr, modules=[NUMPY_FUNCTIONS, {"Heaviside": lambda x, at_zero=0.5: np.heaviside(x, at_zero)},
                                               "numpy"])

    def evaluate(z):
        return np.broadcast_to(function(z), z.shape).astype(float)

    return evaluate


class _FiniteLabels:
    def __init__(self, channel):
        self.labels = np.array([float(label) for label in channel.labels])
        self._probabilities = [_compile(channel.p_out_at(label)) for label in channel.labels]

    def draw(self, z, rng):
        cumulative = np.cumsum([probability(z) for probability in self._probabilities], axis=0)
        uniform = rng.random(z.shape)
        # The last cumulative sum is 1 up to rounding; the clip keeps a uniform above it in range.
        index = np.minimum(np.sum(cumulative <= uniform * cumulative[-1], axis=0), len(self.labels) - 1)
        return self.labels[index]


class _GaussianMixtureLabels:
    def __init__(self, channel):
        terms = gaussian_terms(channel.p_out, s.y)
        for weight, mean, variance in terms:
            if weight.has(s.y):
                raise ValueError(f"channel {channel.name}: the weight {weight} of a term of P_out depends on y, "
                                 "so P_out is not a Gaussian mixture in y and labels cannot be drawn from it")
        self._weights = [_compile(weight) for weight, _, _ in terms]
        self._means = [_compile(mean) for _, mean, _ in terms]
        self._sds = [_compile(sp.sqrt(variance)) for _, _, variance in terms]

    def draw(self, z, rng):
        cumulative = np.cumsum([weight(z) for weight in self._weights], axis=0)
        uniform = rng.random(z.shape)
        index = np.minimum(np.sum(cumulative <= uniform * cumulative[-1], axis=0), len(self._weights) - 1)
        means = np.choose(index, [mean(z) for mean in self._means])
        sds = np.choose(index, [sd(z) for sd in self._sds])
        return means + sds * rng.standard_normal(z.shape)


@lru_cache(maxsize=16)
def label_sampler(channel):
    """Return an object whose ``draw(z, rng)`` draws one label per entry of z from ``channel``."""
    return _GaussianMixtureLabels(channel) if channel.continuous else _FiniteLabels(channel)


def draw_labels(source, z, rng):
    """Draw labels y ~ P_out(. | z) for an array of pre-activations z, as float64.

    ``source`` is a ``Channel``, a ``Model`` or a ``NumpyModel``; ``rng`` is a
    ``numpy.random.Generator``. Raises ValueError for real labels whose P_out is not a Gaussian
    mixture in y.
    """
    channel = getattr(source, "model", source)
    channel = getattr(channel, "channel", channel)
    z = np.asarray(z, dtype=float)
    return label_sampler(channel).draw(z, rng)
