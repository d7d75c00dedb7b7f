"""LaTeX and Markdown documents of every derived object of a model, with the field's notation.

A document is a list of sections, each a list of numbered, named ``Formula`` objects. Each
formula keeps the SymPy expression it was rendered from (``source``), so a test can check
that the printed LaTeX is exactly ``to_latex(source)``.
"""

from dataclasses import dataclass, field

import sympy as sp

from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.free_entropy import Q, Qhat, m, mhat

SYMBOL_NAMES = {
    s.omega: r"\omega",
    s.Sigma: r"\Sigma",
    s.Lambda: r"\Lambda",
    s.gamma: r"\gamma",
    s.qhat: r"\hat{q}",
    s.alpha: r"\alpha",
    s.rho: r"\rho",
    s.xi: r"\xi",
    Qhat: r"\hat{Q}",
    mhat: r"\hat{m}",
}

# The two potentials, as function symbols inside Phi_RS.
Psi_w_function = sp.Function(r"\Psi_{w}")
Psi_out_function = sp.Function(r"\Psi_{\mathrm{out}}")

# An expression longer than this many characters of LaTeX is scaled to the line width.
LONG_FORMULA = 400


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


@dataclass(frozen=True)
class Formula:
    """One numbered equation: ``lhs = to_latex(source)``.

    ``key`` makes the LaTeX label ``eq:key``; ``name`` is what the document calls the formula.
    ``latex`` is the rendered right-hand side, stored so that a test can compare it with a fresh
    rendering of ``source``.
    """

    number: int
    key: str
    name: str
    lhs: str
    source: sp.Expr
    latex: str

    @property
    def line(self):
        return f"{self.lhs} = {self.latex}"


@dataclass
class Section:
    title: str
    text: str = ""
    formulas: list = field(default_factory=list)


@dataclass
class Document:
    """The derived objects of one model, in sections, ready to print as LaTeX or Markdown."""

    title: str
    sections: list = field(default_factory=list)

    def formulas(self):
        return [formula for section in self.sections for formula in section.formulas]

    def add_section(self, title, text=""):
        section = Section(title, text)
        self.sections.append(section)
        return section

    def add(self, section, key, name, lhs, source):
        number = len(self.formulas()) + 1
        section.formulas.append(Formula(number, key, name, lhs, source, to_latex(source)))


def _label_text(label):
    return sp.latex(label)


def _simplified(expr):
    """Return ``sp.simplify(expr)`` for a closed form, and ``expr`` as derived if it has an integral.

    On the integrals of the point-mass priors simplify gains nothing and fails: SymPy 1.14 raises
    GeneratorsError for the Rademacher and binary q equations and runs for minutes on the
    Gauss-Bernoulli one.
    """
    if expr.has(sp.Integral):
        return expr
    return sp.simplify(expr)


def _prior_density(prior):
    if prior.point_masses is not None:
        return sp.Add(*(weight * sp.DiracDelta(s.w - value) for value, weight in prior.point_masses))
    return prior.density


def build_document(model, asymptotic_digits=20):
    """Derive every object of ``model`` and arrange them as a ``Document``.

    ``asymptotic_digits`` sets the digits of the large-alpha constants, which are included for
    the reference model (sign channel, centered Gaussian prior) only; 0 leaves them out.
    """
    from replica_tools.symbolic.checks import is_sign_channel, prior_is_centered_gaussian
    from replica_tools.symbolic.free_entropy import nishimori_substitution, rs_free_entropy
    from replica_tools.symbolic.replica import generalization_errors

    document = Document(f"Derived objects: prior {model.prior.name}, channel {model.channel.name}")
    output, inputs = model.output, model.input

    section = document.add_section("Model", "The channel and the prior as declared.")
    document.add(section, "P_out", "output channel", r"P_{\mathrm{out}}(y \mid z)", model.channel.p_out)
    document.add(section, "P_0", "weight prior", r"P_0(w)", _prior_density(model.prior))

    section = document.add_section(
        "Output functions",
        r"$Z_{\mathrm{out}}(y, \omega, V) = \int dz\, \mathcal{N}(z; \omega, V) P_{\mathrm{out}}(y \mid z)$, "
        r"$f_{\mathrm{out}} = \partial_\omega \log Z_{\mathrm{out}}$, one set per label; "
        r"$H(x) = 1 - \Phi(x)$ with $\Phi$ the standard normal distribution function.")
    for label in model.channel.label_keys:
        arguments = rf"\left({_label_text(label)}, \omega, V\right)"
        document.add(section, f"Z_out:{label}", f"Z_out at y = {label}", r"Z_{\mathrm{out}}" + arguments, output.Z_out[label])
        document.add(section, f"f_out:{label}", f"f_out at y = {label}", r"f_{\mathrm{out}}" + arguments, output.f_out[label])
        document.add(section, f"df_out:{label}", f"d_omega f_out at y = {label}",
                     r"\partial_\omega f_{\mathrm{out}}" + arguments, output.df_out[label])

    section = document.add_section(
        "Input functions",
        r"$Z_w(\gamma, \Lambda) = \int dw\, P_0(w) e^{\gamma w - \Lambda w^2/2}$, its mean $f_w$ and variance "
        r"$\partial_\gamma f_w$; the GAMP form tilts $P_0$ by $\mathcal{N}(w; R, \Sigma)$.")
    document.add(section, "Z_w", "Z_w", r"Z_w(\gamma, \Lambda)", inputs.Z_w)
    document.add(section, "f_w", "f_w", r"f_w(\gamma, \Lambda)", inputs.f_w)
    document.add(section, "variance", "variance of the tilted prior", r"\partial_\gamma f_w(\gamma, \Lambda)",
                 inputs.variance)
    document.add(section, "f_w:gamp", "f_w in GAMP form", r"f_w(\Sigma, R)", inputs.f_w_gamp)
    document.add(section, "variance:gamp", "variance in GAMP form", r"\mathrm{Var}_w(\Sigma, R)", inputs.variance_gamp)

    free_entropy = rs_free_entropy(model)
    section = document.add_section(
        "Replica-symmetric free entropy",
        r"Expectations over $\xi \sim \mathcal{N}(0, 1)$ that SymPy does not evaluate in closed form stay as integrals.")
    Phi = (-m * mhat + Q * Qhat / 2 + s.q * s.qhat / 2 + Psi_w_function(Qhat, mhat, s.qhat)
           + s.alpha * Psi_out_function(Q, m, s.q))
    document.add(section, "Phi_RS", "RS free entropy", r"\Phi_{\mathrm{RS}}", Phi)
    document.add(section, "Psi_w", "Psi_w", r"\Psi_w(\hat{Q}, \hat{m}, \hat{q})", free_entropy.Psi_w)
    if free_entropy.Psi_w is not free_entropy.Psi_w_integral:
        document.add(section, "Psi_w:integral", "Psi_w as a Gaussian expectation", r"\Psi_w(\hat{Q}, \hat{m}, \hat{q})",
                     free_entropy.Psi_w_integral)
    document.add(section, "Psi_out", "Psi_out", r"\Psi_{\mathrm{out}}(Q, m, q)", free_entropy.Psi_out)

    section = document.add_section(
        "Saddle-point equations",
        r"Each stationarity condition $\partial \Phi_{\mathrm{RS}} = 0$, solved for the order parameter of its pair.")
    for parameter, equation_ in free_entropy.saddle_point_equations.items():
        document.add(section, f"saddle:{parameter}", f"saddle point for {parameter}", to_latex(parameter), equation_.rhs)

    substitution = nishimori_substitution(free_entropy.rho)
    Phi_bo, rhs = free_entropy.bayes_optimal
    section = document.add_section(
        "Bayes-optimal reduction",
        "The Nishimori identities, applied by substitution: "
        + ", ".join(f"${to_latex(key)} = {to_latex(value)}$" for key, value in substitution.items())
        + r". The $\hat{q}$ equation is shown after Gaussian integration by parts.")
    document.add(section, "Phi:bayes", "Bayes-optimal free entropy", r"\Phi(q, \hat{q})", Phi_bo)
    document.add(section, "q:bayes", "Bayes-optimal q equation", "q", _simplified(rhs[s.q]))
    document.add(section, "qhat:bayes", "Bayes-optimal qhat equation", r"\hat{q}", free_entropy.qhat_equation_by_parts)

    if is_sign_channel(model.channel):
        eps_bayes, eps_gibbs = generalization_errors(model.rho)
        section = document.add_section(
            "Generalization error", "Test error of the sign teacher as a function of the overlap $q$.")
        document.add(section, "eps:bayes", "Bayes-optimal error", r"\varepsilon_{\mathrm{Bayes}}(q)", eps_bayes)
        document.add(section, "eps:gibbs", "Gibbs error", r"\varepsilon_{\mathrm{Gibbs}}(q)", eps_gibbs)

    if asymptotic_digits and is_sign_channel(model.channel) and prior_is_centered_gaussian(model.prior):
        _add_asymptotics(document, asymptotic_digits)
    return document


def _add_asymptotics(document, digits):
    from replica_tools.solvers.asymptotics import large_alpha_constants

    constants = large_alpha_constants(digits, corrections=1)
    expansion = constants.expansion
    k = sp.Symbol("k", positive=True)
    section = document.add_section(
        "Large-alpha asymptotics",
        r"$\alpha\, \varepsilon \to C$ as $\alpha \to \infty$, with $k = \sqrt{2/\pi} \int \phi(t)^2 / \Phi(t)\, dt$; "
        f"values to {digits} significant digits.")
    document.add(section, "k", "the constant k", "k", sp.Float(constants.k.text, digits))
    document.add(section, "C:bayes", "C_Bayes", r"C_{\mathrm{Bayes}}", expansion.bayes.constant.subs(sp.Symbol("k"), k))
    document.add(section, "C:bayes:value", "C_Bayes, value", r"C_{\mathrm{Bayes}}", sp.Float(constants.C_bayes.text, digits))
    document.add(section, "C:gibbs", "C_Gibbs", r"C_{\mathrm{Gibbs}}", expansion.gibbs.constant.subs(sp.Symbol("k"), k))
    document.add(section, "C:gibbs:value", "C_Gibbs, value", r"C_{\mathrm{Gibbs}}", sp.Float(constants.C_gibbs.text, digits))


def _escape_text(text):
    return text.replace("_", r"\_")


def _equation_block(formula):
    body = formula.line
    if len(body) > LONG_FORMULA:
        body = rf"\resizebox{{\linewidth}}{{!}}{{$\displaystyle {body}$}}"
    return (f"\\begin{{equation}}\\tag{{{formula.number}}}\\label{{eq:{formula.key}}}\n"
            f"{body}\n\\end{{equation}}")


def to_latex_document(document):
    """Return ``document`` as a standalone LaTeX file (amsmath, amssymb and graphicx only)."""
    parts = [
        r"\documentclass[11pt]{article}",
        r"\usepackage{amsmath}",
        r"\usepackage{amssymb}",
        r"\usepackage{graphicx}",
        r"\allowdisplaybreaks",
        r"\setlength{\parindent}{0pt}",
        rf"\title{{{_escape_text(document.title)}}}",
        r"\author{replica\_tools}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
    ]
    for section in document.sections:
        parts.append(rf"\section{{{section.title}}}")
        if section.text:
            parts.append(section.text)
        for formula in section.formulas:
            parts.append(rf"\paragraph{{({formula.number}) {_escape_text(formula.name)}}}")
            parts.append(_equation_block(formula))
    parts.append(r"\end{document}")
    return "\n".join(parts) + "\n"


def to_markdown_document(document):
    """Return ``document`` as Markdown with one ``$$`` block per formula, numbered as in the PDF."""
    parts = [f"# {document.title}", ""]
    for section in document.sections:
        parts += [f"## {section.title}", ""]
        if section.text:
            parts += [section.text, ""]
        for formula in section.formulas:
            parts += [f"**({formula.number}) {formula.name}**", "", "$$", f"{formula.line} \\tag{{{formula.number}}}",
                      "$$", ""]
    return "\n".join(parts)
