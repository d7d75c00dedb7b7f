"""Large-alpha limit of the Bayes-optimal perceptron, step by step, each step checked.

Run with ``python derivations/perceptron_large_alpha.py``. Every step prints what SymPy derived
and asserts it against a formula written out here independently (the lecture slides' formulas,
or the quick hand derivation: q = 1 - delta and xi = sqrt(delta / q) s), or against a number
computed a different way. The library code under ``replica_tools`` never uses these formulas;
it derives everything from the state-evolution equations.

Notation: rho = 1 unless stated, delta = rho - q, t the rescaled integration variable,
phi and Phi the standard normal density and distribution function, k the constant of
qhat ~ k^2 alpha^2, and C = 1 / (k pi) that of eps_Bayes ~ C / alpha.
"""

import time

import mpmath
import sympy as sp

from replica_tools.solvers.asymptotics import large_alpha_constants
from replica_tools.solvers.fixed_point_mp import solve_fixed_point_mp
from replica_tools.symbolic import perceptron
from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.asymptotics import (
    delta,
    fold_labels,
    k,
    large_alpha_expansion,
    leading_order_overlap,
    moment_symbol,
    rescaled_qhat_integrand,
)
from replica_tools.symbolic.identities import ndtr, to_ndtr
from replica_tools.symbolic.replica import state_evolution_equations

alpha, q, t, xi = s.alpha, s.q, s.t, s.xi


def step(number, title):
    print(f"\nStep {number}: {title}")


def show(label, expression):
    print(f"  {label}: {expression}")


def is_zero(expression):
    """Tell whether SymPy reduces ``expression`` to 0, after writing erf and erfc through ndtr."""
    return sp.simplify(to_ndtr(sp.sympify(expression))) == 0


def normal_pdf(x):
    return sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)


def main():
    started = time.perf_counter()
    model = perceptron()
    model_at_one = perceptron(rho=1)

    step(0, "the state-evolution map of the perceptron, derived from P_out and P_0")
    equations = state_evolution_equations(model)
    show("qhat = alpha E_xi[...], integrand", equations.qhat_integrand)
    show("q(qhat)", sp.simplify(equations.q_of_qhat))
    assert is_zero(equations.q_of_qhat - s.qhat * s.rho**2 / (1 + s.qhat * s.rho))

    step(1, "at rho = 1 the map is the slides' equation, once the two labels are folded into one")
    at_one = state_evolution_equations(model_at_one)
    folded = fold_labels(sp.Add.make_args(sp.expand(at_one.qhat_integrand)), var=xi)
    slides = (2 / sp.pi) / (1 - q) * sp.exp(-q * xi**2 / (1 - q)) / (1 + sp.erf(sp.sqrt(q) * xi / sp.sqrt(2 * (1 - q))))
    show("folded integrand", folded)
    show("slides' integrand (against D xi)", slides)
    assert is_zero(folded - slides)

    step(2, "substitute rho = q + delta and xi = sqrt(delta / q) t, with the Jacobian")
    rescaled = fold_labels(rescaled_qhat_integrand(equations))
    hint = (delta ** sp.Rational(-1, 2) * q ** sp.Rational(-1, 2) * (2 / sp.pi) / sp.sqrt(2 * sp.pi)
            * sp.exp(-t**2) * sp.exp(-delta * t**2 / (2 * q)) / (1 + sp.erf(t / sp.sqrt(2))))
    show("rescaled integrand in t", rescaled)
    assert is_zero(rescaled - hint), "the rescaled integrand differs from the hand derivation"
    print("  equals delta^(-1/2) q^(-1/2) (2/pi) (2 pi)^(-1/2) e^(-t^2) e^(-delta t^2/(2q)) / (1 + erf(t/sqrt 2))")

    step(3, "leading order in delta: qhat ~ alpha delta^(-1/2) k / sqrt(rho)")
    expansion = large_alpha_expansion(model, corrections=2)
    show("A_0", expansion.qhat_coefficients[0])
    show("k", expansion.k_integral)
    assert expansion.qhat_coefficients[0] == k / sp.sqrt(s.rho)
    textbook_weight = sp.sqrt(2 / sp.pi) * normal_pdf(t) ** 2 / ndtr(t)
    assert is_zero(expansion.weight - textbook_weight)
    print("  k = sqrt(2/pi) int phi(t)^2 / Phi(t) dt")
    for j, coefficient in enumerate(expansion.qhat_coefficients[1:], start=1):
        show(f"A_{j}", coefficient)
    at_rho_one = {s.rho: 1}
    assert is_zero(expansion.qhat_coefficients[1].subs(at_rho_one) - (k - moment_symbol(1)) / 2)
    print("  A_1 = (k - m_1) / 2 at rho = 1: the e^(-delta t^2/(2q)) factor gives -m_1/2, "
          "q^(-1/2) = 1 + delta/2 gives k/2")

    step(4, "solve the leading-order equation in closed form (rho = 1): the slides' q_b")
    q_b = leading_order_overlap(model, expansion).subs(at_rho_one)
    slides_q_b = (alpha * k * sp.sqrt(alpha**2 * k**2 + 4) - alpha**2 * k**2) / 2
    show("q_b", q_b)
    assert sp.simplify(q_b - slides_q_b) == 0
    one_minus = sp.limit(alpha**2 * (1 - q_b), alpha, sp.oo)
    qhat_b = sp.limit(q_b / (1 - q_b) / alpha**2, alpha, sp.oo)
    assert one_minus == 1 / k**2
    assert qhat_b == k**2
    print("  q_b = (alpha k sqrt(alpha^2 k^2 + 4) - alpha^2 k^2) / 2 ~ 1 - 1/(alpha^2 k^2), qhat_b ~ k^2 alpha^2")
    # SymPy 1.14 returns 0 for the limit of alpha arccos(sqrt(q_b)) taken in one go, so it is
    # taken in two steps: arccos(sqrt(1 - x^2)) = x + O(x^3), then alpha sqrt(1 - q_b) -> 1/k.
    x = sp.Symbol("x", positive=True)
    assert sp.series(sp.acos(sp.sqrt(1 - x**2)), x, 0, 2).removeO() == x
    assert sp.sqrt(one_minus) / sp.pi == 1 / (sp.pi * k)
    print("  alpha arccos(sqrt(q_b)) / pi -> alpha sqrt(1 - q_b) / pi -> 1 / (k pi)")

    step(5, "expand the errors: constants and corrections (powers read off, not assumed)")
    for name, error in (("Bayes", expansion.bayes), ("Gibbs", expansion.gibbs)):
        show(f"C_{name}", error.constant)
        for power, coefficient in error.corrections:
            show(f"  relative correction at alpha^-{power}", coefficient)
    assert expansion.bayes.constant == 1 / (sp.pi * k)
    assert sp.simplify(expansion.gibbs.constant / expansion.bayes.constant) == sp.sqrt(2)
    assert [power for power, _ in expansion.bayes.corrections] == [2, 4]
    assert [power for power, _ in expansion.gibbs.corrections] == [2, 4]
    hand_c2 = -sp.Rational(4, 3) / k**2 + moment_symbol(1) / (2 * k**3)
    assert sp.simplify(expansion.bayes.first_correction[1] - hand_c2) == 0
    print("  odd powers of 1/alpha vanish; C_Gibbs / C_Bayes = sqrt(2); c_2 = -4/(3 k^2) + m_1/(2 k^3)")

    step(6, "numbers: the moments by quadrature, and C against the slides' 0.4417")
    constants = large_alpha_constants(40)
    show("k", constants.k.text)
    show("C_Bayes", constants.C_bayes.text)
    show("C_Gibbs", constants.C_gibbs.text)
    c2 = constants.bayes_corrections[0].coefficient.value
    show("c_2 (Bayes)", constants.bayes_corrections[0].coefficient.text)
    assert constants.C_bayes.text.startswith("0.4417")
    with mpmath.workdps(50):
        assert abs(1 / (mpmath.pi * constants.C_bayes.value) - constants.k.value) < mpmath.mpf(10) ** -35

    step(7, "c_2 against a finite difference of the full fixed point")
    with mpmath.workdps(50):
        def scaled_gap(alpha_value):
            point = solve_fixed_point_mp(model, alpha_value, dps=50)
            return point.alpha**2 * (point.alpha * point.eps_bayes / constants.C_bayes.value - 1)

        # alpha^2 (alpha eps / C - 1) = c_2 + c_4 / alpha^2 + ..., so the Richardson combination
        # of alpha and 2 alpha removes the c_4 term.
        low, high = scaled_gap(1000), scaled_gap(2000)
        richardson = (4 * high - low) / 3
        show("alpha^2 (alpha eps / C - 1) at alpha = 1000, 2000", f"{mpmath.nstr(low, 15)}, {mpmath.nstr(high, 15)}")
        show("Richardson estimate of c_2", mpmath.nstr(richardson, 15))
        assert abs(richardson - c2) < mpmath.mpf(10) ** -9

    print(f"\nAll steps passed in {time.perf_counter() - started:.0f} s.")


if __name__ == "__main__":
    main()
