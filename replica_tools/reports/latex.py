"""LaTeX for derived formulas, with the field's notation for the symbols."""

import sympy as sp

from replica_tools.symbolic import symbols as s

SYMBOL_NAMES = {
    s.omega: r"\omega",
    s.Sigma: r"\Sigma",
    s.Lambda: r"\Lambda",
    s.gamma: r"\gamma",
    s.qhat: r"\hat{q}",
    s.alpha: r"\alpha",
    s.rho: r"\rho",
    s.xi: r"\xi",
}


def to_latex(expr):
    """Return the LaTeX of ``expr`` with hats and Greek letters where the field uses them."""
    return sp.latex(expr, symbol_names=SYMBOL_NAMES)


def equation(name, expr):
    """Return ``name = expr`` as one LaTeX line; ``name`` is already LaTeX."""
    return f"{name} = {to_latex(expr)}"


def model_formulas(model):
    """Return the derived formulas of ``model`` as (name, LaTeX) pairs, in derivation order."""
    output, inputs = model.output, model.input
    lines = []
    for label in model.channel.label_keys:
        arguments = rf"\left({sp.latex(label)}, \omega, V\right)"
        lines.append((f"Z_out(y={label})", equation(r"Z_{\mathrm{out}}" + arguments, output.Z_out[label])))
        lines.append((f"f_out(y={label})", equation(r"f_{\mathrm{out}}" + arguments, output.f_out[label])))
        lines.append(
            (f"d_omega f_out(y={label})", equation(r"\partial_\omega f_{\mathrm{out}}" + arguments, output.df_out[label]))
        )
    lines.append(("Z_w", equation(r"Z_w(\gamma, \Lambda)", inputs.Z_w)))
    lines.append(("f_w", equation(r"f_w(\gamma, \Lambda)", inputs.f_w)))
    lines.append(("variance", equation(r"\partial_\gamma f_w(\gamma, \Lambda)", inputs.variance)))
    lines.append(("f_w (GAMP)", equation(r"f_w(\Sigma, R)", inputs.f_w_gamp)))
    lines.append(("variance (GAMP)", equation(r"\mathrm{Var}_w(\Sigma, R)", inputs.variance_gamp)))
    return lines
