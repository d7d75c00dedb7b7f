"""Output channels P_out(y | z) and the functions the replica method and GAMP derive from them.

For a channel the derivation is

    Z_out(y, omega, V) = int dz N(z; omega, V) P_out(y | z),
    f_out(y, omega, V) = d/d omega log Z_out,
    d_omega f_out(y, omega, V) = d/d omega f_out,

carried out by SymPy for each label of a finite label set, or once with y a real symbol when the
labels are real numbers (P_out is then a density in y).
"""

import logging
from dataclasses import dataclass, field

import sympy as sp

from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.gaussian import closed_form_over_line, standard_normal_pdf
from replica_tools.symbolic.identities import complement_ndtr, to_ndtr

logger = logging.getLogger(__name__)

# The label set of a channel whose labels are real numbers.
REAL_LABELS = sp.S.Reals


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
    labels : tuple of sympy.Integer, or REAL_LABELS
        The finite label set, over which P_out(. | z) sums to one, or ``REAL_LABELS`` for real
        labels, over which P_out(. | z) integrates to one.
    """

    name: str
    p_out: sp.Expr
    labels: object
    latex_name: str = ""

    @property
    def continuous(self):
        """Whether the labels are real numbers rather than a finite set."""
        return self.labels == REAL_LABELS

    @property
    def label_keys(self):
        """The keys of the derived tables: each label, or the symbol y for real labels."""
        return (s.y,) if self.continuous else tuple(self.labels)

    def p_out_at(self, label):
        """Return P_out(label | z)."""
        return self.p_out.subs(s.y, label)


@dataclass(frozen=True)
class OutputFunctions:
    """Z_out, f_out and d_omega f_out of a channel, one expression per key of ``label_keys``.

    ``Z_out_terms`` contains, per key, the terms of Z_out when it is a sum of two or more terms
    that SymPy proves positive, and None otherwise. The compiled code evaluates f_out of such a
    sum as a weighted mean over its terms (see ``replica_tools.numerics.output``). ``numeric``
    names the objects left as unevaluated integrals because no integration rule gave a closed form.
    """

    channel: Channel
    Z_out: dict = field(default_factory=dict)
    f_out: dict = field(default_factory=dict)
    df_out: dict = field(default_factory=dict)
    Z_out_terms: dict = field(default_factory=dict)
    numeric: tuple = ()


def derive_partition_function(channel, label):
    """Derive Z_out(label, omega, V) by integrating P_out against N(z; omega, V).

    The substitution z = omega + sqrt(V) t turns the integral into one against N(0, 1). The
    result is written through the normal distribution function (H(-x) in the literature). Where
    the rules of ``replica_tools.symbolic.gaussian`` give no closed form, the result is the
    unevaluated integral over t.
    """
    integrand = channel.p_out_at(label).subs(s.z, s.omega + sp.sqrt(s.V) * s.t)
    integrand = integrand * standard_normal_pdf(s.t)
    result = closed_form_over_line(integrand, s.t)
    if result is None:
        logger.info("no closed form for Z_out of channel %s at y = %s: left as an integral", channel.name, label)
        return sp.Integral(integrand, (s.t, -sp.oo, sp.oo))
    return complement_ndtr(to_ndtr(sp.simplify(result)))


def positive_terms(expr):
    """Return the terms of ``expr`` if it is a sum of two or more provably positive terms, else None."""
    terms = sp.Add.make_args(sp.expand(expr))
    if len(terms) < 2 or not all(term.is_positive for term in terms):
        return None
    return terms


def derive_output_functions(channel):
    """Derive Z_out, f_out = d_omega log Z_out and d_omega f_out for every label key."""
    Z_out, f_out, df_out, terms = {}, {}, {}, {}
    numeric = []
    for label in channel.label_keys:
        Z_out[label] = derive_partition_function(channel, label)
        if Z_out[label].has(sp.Integral):
            numeric.append(f"Z_out(y={label})")
            f_out[label] = sp.diff(sp.log(Z_out[label]), s.omega)
            df_out[label] = sp.diff(f_out[label], s.omega)
            terms[label] = None
            continue
        terms[label] = positive_terms(Z_out[label])
        f_out[label] = sp.diff(sp.log(Z_out[label]), s.omega)
        df_out[label] = sp.diff(f_out[label], s.omega)
        if terms[label] is None:
            f_out[label] = sp.simplify(f_out[label])
            df_out[label] = sp.simplify(sp.diff(f_out[label], s.omega))
        # A sum of terms is compiled from the terms themselves, and simplify can take minutes on
        # it (the derivative of a ReLU channel's Z_out), so its f_out stays as differentiated.
    return OutputFunctions(channel, Z_out, f_out, df_out, terms, tuple(numeric))
