"""The LaTeX document: every formula rendered from its SymPy source, and a PDF that compiles."""

import re
import shutil
import subprocess

import pytest
import sympy as sp

from replica_tools.cli.main import main
from replica_tools.reports.latex import SYMBOL_NAMES, build_document, to_latex, to_latex_document, to_markdown_document
from replica_tools.symbolic import perceptron
from replica_tools.symbolic import symbols as s


@pytest.fixture(scope="module")
def document():
    return build_document(perceptron(rho=1), asymptotic_digits=20)


@pytest.fixture(scope="module")
def tex(document):
    return to_latex_document(document)


def test_formula_rendered_from_source(document):
    for formula in document.formulas():
        assert formula.latex == to_latex(formula.source), formula.key


def test_document_contains_each_formula(document, tex):
    for formula in document.formulas():
        assert formula.line in tex, formula.key
        assert rf"\tag{{{formula.number}}}\label{{eq:{formula.key}}}" in tex


def test_formulas_numbered_in_order(document):
    assert [formula.number for formula in document.formulas()] == list(range(1, len(document.formulas()) + 1))
    assert len({formula.key for formula in document.formulas()}) == len(document.formulas())


def test_every_derived_object_present(document):
    keys = {formula.key for formula in document.formulas()}
    expected = {"P_out", "P_0", "Z_out:1", "f_out:1", "df_out:1", "Z_w", "f_w", "variance", "Phi_RS", "Psi_w", "Psi_out",
                "saddle:q", "saddle:qhat", "saddle:Q", "saddle:Qhat", "saddle:m", "saddle:mhat", "q:bayes",
                "qhat:bayes", "eps:bayes", "k", "C:bayes:value"}
    assert expected <= keys


def test_asymptotic_constants_digits(document):
    # k = sqrt(2/pi) int phi^2 / Phi dt and C = 1 / (k pi), by mpmath quadrature at 30 digits.
    import mpmath

    mpmath.mp.dps = 30
    k = mpmath.sqrt(2 / mpmath.pi) * mpmath.quad(lambda t: mpmath.npdf(t) ** 2 / mpmath.ncdf(t),
                                                  [-mpmath.inf, 0, mpmath.inf])
    values = {formula.key: formula.source for formula in document.formulas()}
    assert abs(mpmath.mpf(str(values["k"])) - k) < mpmath.mpf(10) ** -19
    assert abs(mpmath.mpf(str(values["C:bayes:value"])) - 1 / (k * mpmath.pi)) < mpmath.mpf(10) ** -19


def _symbol_names(expr):
    return {SYMBOL_NAMES.get(symbol, symbol.name) for symbol in expr.free_symbols}


def test_latex_names_every_symbol(document):
    # Structural round trip: each free symbol of the source appears in the LaTeX under its name.
    for formula in document.formulas():
        for name in _symbol_names(formula.source):
            assert name in formula.latex, (formula.key, name)


def _parseable(latex):
    # SymPy's parser reads \hat{q} as hat*q, H(x) as an undefined function, \operatorname{acos}
    # as a product and \theta as a symbol, so only formulas free of these are parsed back.
    return not re.search(r"\\hat|\\operatorname|H\\left|\\theta|\\int|\\Psi|\\log|\\delta", latex)


def test_latex_parses_back_to_source(document):
    parse_latex = pytest.importorskip("sympy.parsing.latex").parse_latex
    pytest.importorskip("antlr4", reason="sympy's LaTeX parser needs antlr4-python3-runtime")
    checked = 0
    for formula in document.formulas():
        if not _parseable(formula.latex) or formula.source.is_Float:
            continue
        parsed = parse_latex(formula.latex)
        # The parser makes plain symbols and reads e and pi as symbols: give them back their meaning.
        by_name = {symbol.name: symbol for symbol in formula.source.free_symbols} | {"e": sp.E, "pi": sp.pi}
        parsed = parsed.subs({symbol: by_name.get(symbol.name.strip("\\"), symbol) for symbol in parsed.free_symbols})
        assert sp.simplify(parsed - formula.source) == 0, formula.key
        checked += 1
    assert checked >= 5


def test_markdown_has_one_block_per_formula(document):
    markdown = to_markdown_document(document)
    assert markdown.count("$$\n") == 2 * len(document.formulas())
    for formula in document.formulas():
        assert f"{formula.line} \\tag{{{formula.number}}}" in markdown


def test_latex_compiles_to_pdf(tex, tmp_path):
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed (Debian: texlive-latex-base)")
    (tmp_path / "model.tex").write_text(tex, encoding="utf-8")
    completed = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "model.tex"],
                               cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout[-3000:]
    assert (tmp_path / "model.pdf").read_bytes().startswith(b"%PDF")


def test_latex_command_writes_file(tmp_path, capsys):
    target = tmp_path / "model.md"
    assert main(["latex", "--markdown", "--digits", "0", "-o", str(target)]) == 0
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# Derived objects: prior gaussian, channel sign")
    assert "Large-alpha" not in text
    assert list(tmp_path.iterdir()) == [target]


@pytest.mark.parametrize("arguments, message", [
    (["--prior", "laplace"], "unknown prior 'laplace': the known ones are"),
    (["--channel", "relu"], "unknown channel 'relu': the known ones are"),
    (["--digits", "2000"], "expected an integer in [0, 1000]"),
    (["-o", "missing-folder/model.tex"], "does not exist"),
    (["-o", ""], "invalid value '': it names no file"),
])
def test_latex_command_rejects_bad_input(arguments, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["latex", *arguments]) == 2
    error = capsys.readouterr().err
    assert message in error
    assert len(error.strip().splitlines()) == 1


def test_reference_rho_stays_symbolic_in_formulas(capsys):
    assert main(["formulas"]) == 0
    assert r"\rho" in capsys.readouterr().out


def test_formulas_q_of_qhat_reduction(document):
    q_equation = next(formula for formula in document.formulas() if formula.key == "q:bayes")
    assert sp.simplify(q_equation.source - s.qhat / (1 + s.qhat)) == 0


def test_formulas_print_latex(capsys):
    assert main(["formulas"]) == 0
    output = capsys.readouterr().out
    assert r"Z_{\mathrm{out}}\left(1, \omega, V\right) = H\left(- \frac{\omega}{\sqrt{V}}\right)" in output
    assert r"f_w(\Sigma, R) = \frac{R \rho}{\Sigma + \rho}" in output
    assert "% Z_out(y=1)" in output


def test_formulas_for_catalog_rho(capsys):
    assert main(["formulas", "--rho", "2"]) == 0
    assert r"f_w(\Sigma, R) = \frac{2 R}{\Sigma + 2}" in capsys.readouterr().out
