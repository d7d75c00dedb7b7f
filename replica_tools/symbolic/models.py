"""The models the toolkit ships: declarations only, everything else is derived."""

from dataclasses import dataclass
from functools import cached_property

import sympy as sp

from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.channel import REAL_LABELS, Channel, derive_output_functions
from replica_tools.symbolic.identities import ndtr
from replica_tools.symbolic.prior import Prior, derive_input_functions


def sign_channel():
    """Return the noiseless sign channel P_out(y | z) = Theta(y z), y in {-1, +1}."""
    return Channel(
        name="sign",
        p_out=sp.Heaviside(s.y * s.z),
        labels=SIGN_LABELS,
        latex_name=r"\mathrm{sign}",
    )


# Channel parameters, for derivations that keep them symbolic; the catalog passes numbers.
Delta = sp.Symbol("Delta", positive=True)  # variance of Gaussian label noise
eta = sp.Symbol("eta", positive=True)  # probability that a label is flipped
sigma = sp.Symbol("sigma", positive=True)  # width of the probit channel

SIGN_LABELS = (sp.Integer(-1), sp.Integer(1))


def _normal_density(x, mean, variance):
    return sp.exp(-(x - mean) ** 2 / (2 * variance)) / sp.sqrt(2 * sp.pi * variance)


def noisy_sign_channel(Delta=Delta):
    """Return y = sign(z) + sqrt(Delta) xi with xi ~ N(0, 1): y real, P_out = N(y; sign z, Delta)."""
    Delta = sp.sympify(Delta)
    p_out = (sp.Heaviside(s.z) * _normal_density(s.y, 1, Delta)
             + sp.Heaviside(-s.z) * _normal_density(s.y, -1, Delta))
    return Channel(name="noisy-sign", p_out=p_out, labels=REAL_LABELS,
                   latex_name=r"\mathrm{sign} + \sqrt{\Delta}\,\xi")


def sign_flip_channel(eta=eta):
    """Return y = sign(z), flipped with probability eta: P_out(y | z) = (1 - eta) Theta(y z) + eta Theta(-y z)."""
    eta = sp.sympify(eta)
    p_out = (1 - eta) * sp.Heaviside(s.y * s.z) + eta * sp.Heaviside(-s.y * s.z)
    return Channel(name="sign-flip", p_out=p_out, labels=SIGN_LABELS, latex_name=r"\mathrm{sign}_\eta")


def probit_channel(sigma=sigma):
    """Return y = sign(z + sigma xi) with xi ~ N(0, 1): P_out(y | z) = Phi(y z / sigma)."""
    sigma = sp.sympify(sigma)
    return Channel(name="probit", p_out=ndtr(s.y * s.z / sigma), labels=SIGN_LABELS,
                   latex_name=r"\mathrm{probit}")


def linear_channel(Delta=Delta):
    """Return y = z + sqrt(Delta) xi with xi ~ N(0, 1): y real, P_out = N(y; z, Delta)."""
    Delta = sp.sympify(Delta)
    return Channel(name="linear", p_out=_normal_density(s.y, s.z, Delta), labels=REAL_LABELS,
                   latex_name=r"\mathrm{linear}")


def gaussian_prior(rho=s.rho):
    """Return the Gaussian prior N(0, rho) (rho may be a number or the symbol rho)."""
    rho = sp.sympify(rho)
    density = sp.exp(-s.w**2 / (2 * rho)) / sp.sqrt(2 * sp.pi * rho)
    return Prior(name="gaussian", density=density, second_moment=rho)


def binary_prior(p=sp.Rational(1, 2)):
    """Return the prior on {-1, +1} with P(w = +1) = p."""
    p = sp.sympify(p)
    name = "rademacher" if p == sp.Rational(1, 2) else "binary"
    return Prior(name=name, point_masses=((sp.Integer(-1), 1 - p), (sp.Integer(1), p)), second_moment=sp.Integer(1))


def rademacher_prior():
    """Return the Rademacher prior, w = +1 or -1 with probability 1/2 each."""
    return binary_prior(sp.Rational(1, 2))


def gauss_bernoulli_prior(rho=sp.Rational(1, 2)):
    """Return the sparse prior (1 - rho) delta(w) + rho N(w; 0, 1), whose second moment is rho."""
    rho = sp.sympify(rho)
    density = rho * sp.exp(-s.w**2 / 2) / sp.sqrt(2 * sp.pi)
    point_masses = ((sp.Integer(0), 1 - rho),) if rho != 1 else None
    return Prior(name="gauss-bernoulli", density=density, point_masses=point_masses, second_moment=rho)


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
