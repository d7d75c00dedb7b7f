"""Output channels P_out(y | z) and the functions the replica method and GAMP derive from them.

For a channel the derivation is

    Z_out(y, omega, V) = int dz N(z; omega, V) P_out(y | z),
    f_out(y, omega, V) = d/d omega log Z_out,
    d_omega f_out(y, omega, V) = d/d omega f_out,

carried out by SymPy for each label of a finite label set.
"""

from dataclasses import dataclass, field

import sympy as sp

from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.gaussian import integrate_over_line, standard_normal_pdf
from replica_tools.symbolic.identities import complement_ndtr, to_ndtr


@dataclass(frozen=True)
class Channel:
    """An output channel declared by its likelihood.

    Parameters
    ----------
    name : str
        Short identifier, used in reports.
    p_out : sympy.Expr
        P_out(y | z) in the symbols ``replica_tools.symbolic.symbols.y`` and ``.z``; a step
        function is written as ``Heaviside`` of an expression linear in z.
    labels : tuple of sympy.Integer
        The finite label set; P_out(. | z) must sum to one over it.
    """

    name: str
    p_out: sp.Expr
    labels: tuple
    latex_name: str = ""

    def p_out_at(self, label):
        """Return P_out(label | z)."""
        return self.p_out.subs(s.y, label)


@dataclass(frozen=True)
class OutputFunctions:
    """Z_out, f_out and d_omega f_out of a channel, one expression per label, in (omega, V)."""

    channel: Channel
    Z_out: dict = field(default_factory=dict)
    f_out: dict = field(default_factory=dict)
    df_out: dict = field(default_factory=dict)


def derive_partition_function(channel, label):
    """Derive Z_out(label, omega, V) by integrating P_out against N(z; omega, V).

    The substitution z = omega + sqrt(V) t turns the integral into one against N(0, 1). The
    result is written through the normal distribution function (H(-x) in the literature).
    """
    integrand = channel.p_out_at(label).subs(s.z, s.omega + sp.sqrt(s.V) * s.t)
    integrand = integrand * standard_normal_pdf(s.t)
    result = integrate_over_line(integrand, s.t)
    if result.has(sp.Integral):
        raise NotImplementedError(f"SymPy found no closed form for Z_out of {channel.name} at y = {label}")
    return complement_ndtr(to_ndtr(sp.simplify(result)))


def derive_output_functions(channel):
    """Derive Z_out, f_out = d_omega log Z_out and d_omega f_out for every label."""
    Z_out, f_out, df_out = {}, {}, {}
    for label in channel.labels:
        Z_out[label] = derive_partition_function(channel, label)
        f_out[label] = sp.simplify(sp.diff(sp.log(Z_out[label]), s.omega))
        df_out[label] = sp.simplify(sp.diff(f_out[label], s.omega))
    return OutputFunctions(channel, Z_out, f_out, df_out)
