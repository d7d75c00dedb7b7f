"""The built-in priors and channels by name, with their parameters and valid ranges.

The command line and the reports look models up here, so a prior or channel added to
``PRIORS`` or ``CHANNELS`` is available everywhere at once. Each entry only declares: its
``build`` function returns a ``Prior`` or a ``Channel``, from which everything else is derived.
"""

import math
from dataclasses import dataclass, field

import sympy as sp

from replica_tools.symbolic.models import (
    Model,
    binary_prior,
    gauss_bernoulli_prior,
    gaussian_prior,
    linear_channel,
    noisy_sign_channel,
    probit_channel,
    rademacher_prior,
    sign_channel,
    sign_flip_channel,
)


class UnknownNameError(ValueError):
    """A prior or channel name that the catalog does not have."""


@dataclass(frozen=True)
class Parameter:
    """A numeric parameter of a prior or channel and its valid range.

    ``low_open`` and ``high_open`` tell whether the range excludes its ends; an infinite end is
    always excluded.
    """

    name: str
    default: float
    low: float
    high: float
    meaning: str
    low_open: bool = True
    high_open: bool = True

    @property
    def range_text(self):
        """The range as written in messages, such as (0, 1] or (0, inf)."""
        left = "(" if self.low_open or math.isinf(self.low) else "["
        right = ")" if self.high_open or math.isinf(self.high) else "]"
        return f"{left}{self.low:g}, {self.high:g}{right}"

    def contains(self, value):
        """Return True if ``value`` is a finite number in the valid range."""
        if not math.isfinite(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def check(self, value, owner):
        """Return ``value`` as a float, or raise ValueError naming it, ``owner`` and the range."""
        value = float(value)
        if not self.contains(value):
            raise ValueError(f"{self.name} = {value:.12g} is invalid for {owner}: "
                             f"{self.meaning} must be in {self.range_text}")
        return value


@dataclass(frozen=True)
class Entry:
    """A named prior or channel: how to build it and which parameters it takes."""

    name: str
    build: callable
    summary: str
    parameters: tuple = field(default_factory=tuple)

    def parameter_names(self):
        return tuple(parameter.name for parameter in self.parameters)

    def make(self, kind, **values):
        """Build the prior or channel with ``values`` (defaults for the ones not given).

        Values reach ``build`` as exact SymPy rationals (0.1 becomes 1/10), so that the
        derivation stays exact. Raises ValueError for a parameter the entry does not take or a
        value out of range.
        """
        owner = f"{kind} {self.name}"
        unknown = sorted(set(values) - set(self.parameter_names()))
        if unknown:
            takes = ", ".join(self.parameter_names()) or "no parameters"
            raise ValueError(f"{unknown[0]} does not apply to {owner} (it takes {takes})")
        checked = {
            parameter.name: sp.Rational(repr(parameter.check(values.get(parameter.name, parameter.default), owner)))
            for parameter in self.parameters
        }
        return self.build(**checked)


PRIORS = {
    "gaussian": Entry(
        "gaussian", gaussian_prior, "Gaussian N(0, rho)",
        (Parameter("rho", 1.0, 1e-6, 1e6, "the variance rho", low_open=False, high_open=False),),
    ),
    "rademacher": Entry("rademacher", rademacher_prior, "w = +1 or -1 with probability 1/2 each"),
    "binary": Entry(
        "binary", binary_prior, "w = +1 with probability p, -1 otherwise",
        (Parameter("p", 0.5, 1e-3, 0.999, "the probability p of w = +1", low_open=False, high_open=False),),
    ),
    "gauss-bernoulli": Entry(
        "gauss-bernoulli", gauss_bernoulli_prior, "N(0, 1) with probability rho, 0 otherwise",
        (Parameter("rho", 0.5, 1e-3, 1.0, "the fraction rho of nonzero weights", low_open=False, high_open=False),),
    ),
}

# eta includes 0, where the channel is the sign channel, and excludes 1/2, where the label is a
# fair coin independent of z: nothing can be learned and f_out vanishes. A rate above 1/2 is
# the rate 1 - eta with the teacher's sign reversed, so it adds no model.
#
# The ranges of all parameters are the tested ones: tests/test_cli_thresholds.py runs
# ``thresholds`` at both ends of each. Outside them the threshold search fails or loses
# precision, for example at p = 1 - 1e-10, where alpha_alg (2.3e-4) falls below the alpha_IT
# search, or at eta = 0.4999999, where alpha_alg is of order 1e13.
CHANNELS = {
    "sign": Entry("sign", sign_channel, "y = sign(z)"),
    "noisy-sign": Entry(
        "noisy-sign", noisy_sign_channel, "y = sign(z) + sqrt(Delta) xi, real labels",
        (Parameter("Delta", 0.1, 1e-6, 1e3, "the label noise variance Delta", low_open=False, high_open=False),),
    ),
    "sign-flip": Entry(
        "sign-flip", sign_flip_channel, "y = sign(z), flipped with probability eta",
        (Parameter("eta", 0.1, 0.0, 0.49, "the flip probability eta", low_open=False, high_open=False),),
    ),
    "probit": Entry(
        "probit", probit_channel, "y = sign(z + sigma xi)",
        (Parameter("sigma", 0.5, 1e-6, 1e3, "the probit width sigma", low_open=False, high_open=False),),
    ),
    "linear": Entry(
        "linear", linear_channel, "y = z + sqrt(Delta) xi, real labels",
        (Parameter("Delta", 0.1, 1e-6, 1e3, "the label noise variance Delta", low_open=False, high_open=False),),
    ),
}


def _lookup(table, kind, name):
    try:
        return table[name]
    except KeyError:
        known = ", ".join(sorted(table))
        raise UnknownNameError(f"unknown {kind} {name!r}: the known ones are {known}") from None


def prior_entry(name):
    """Return the catalog entry of the prior ``name``, or raise UnknownNameError."""
    return _lookup(PRIORS, "prior", name)


def channel_entry(name):
    """Return the catalog entry of the channel ``name``, or raise UnknownNameError."""
    return _lookup(CHANNELS, "channel", name)


def build_model(prior="gaussian", channel="sign", prior_parameters=None, channel_parameters=None):
    """Return the ``Model`` of a named prior and channel with the given parameter values."""
    return Model(
        channel_entry(channel).make("channel", **(channel_parameters or {})),
        prior_entry(prior).make("prior", **(prior_parameters or {})),
    )
