"""The models the toolkit ships: declarations only, everything else is derived."""

from dataclasses import dataclass
from functools import cached_property

import sympy as sp

from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.channel import Channel, derive_output_functions
from replica_tools.symbolic.prior import Prior, derive_input_functions


def sign_channel():
    """Return the noiseless sign channel P_out(y | z) = Theta(y z), y in {-1, +1}."""
    return Channel(
        name="sign",
        p_out=sp.Heaviside(s.y * s.z),
        labels=(sp.Integer(-1), sp.Integer(1)),
        latex_name=r"\mathrm{sign}",
    )


def gaussian_prior(rho=s.rho):
    """Return the Gaussian prior N(0, rho) (rho may be a number or the symbol rho)."""
    rho = sp.sympify(rho)
    density = sp.exp(-s.w**2 / (2 * rho)) / sp.sqrt(2 * sp.pi * rho)
    return Prior(name="gaussian", density=density, second_moment=rho)


@dataclass(frozen=True)
class Model:
    """A generalized linear model: a channel and a prior, with their derived functions."""

    channel: Channel
    prior: Prior

    @cached_property
    def output(self):
        """Z_out, f_out, d_omega f_out per label (derived on first use)."""
        return derive_output_functions(self.channel)

    @cached_property
    def input(self):
        """Z_w, f_w and variance of the tilted prior (derived on first use)."""
        return derive_input_functions(self.prior)

    @property
    def rho(self):
        """Teacher second moment E[w^2] as a SymPy expression."""
        return self.prior.second_moment


def perceptron(rho=s.rho):
    """Return the teacher-student perceptron: sign channel and Gaussian N(0, rho) prior."""
    return Model(sign_channel(), gaussian_prior(rho))
