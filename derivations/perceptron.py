"""Derivation of the Bayes-optimal learning curve of the Gaussian-weight perceptron.

Run it as ``python derivations/perceptron.py``. Each step derives one object from the model
declaration with the toolkit, prints it, and asserts what the step claims: a closed form known
independently, an identity checked numerically, or agreement between two methods.
"""

import mpmath
import numpy as np
import sympy as sp

from replica_tools.numerics.compiled import NumpyModel
from replica_tools.reports.latex import to_latex
from replica_tools.solvers.state_evolution import solve_fixed_point
from replica_tools.symbolic import perceptron
from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.replica import generalization_errors, rs_free_entropy, state_evolution_equations


def show(step, text, expr=None):
    print(f"\n[{step}] {text}")
    if expr is not None:
        print(f"    {expr}")
        print(f"    LaTeX: {to_latex(expr)}")


def main():
    model = perceptron()

    # Step 1: the declaration, P_out(y|z) = Theta(y z) and P_0 = N(0, rho).
    show(1, "Declared channel P_out(y|z) and prior P_0(w)", model.channel.p_out)
    print(f"    prior density: {model.prior.density}")
    assert model.channel.p_out == sp.Heaviside(s.y * s.z)

    # Step 2: Z_out = int dz N(z; omega, V) Theta(y z) = Phi(y omega / sqrt V) = H(-y omega / sqrt V).
    for label in model.channel.labels:
        Z_out = model.output.Z_out[label]
        show(2, f"Z_out(y={label}, omega, V)", Z_out)
        expected = sp.erfc(-label * s.omega / sp.sqrt(2 * s.V)) / 2
        assert sp.simplify(Z_out.rewrite(sp.erfc) - expected) == 0

    # Step 3: f_out = d_omega log Z_out is the inverse Mills ratio y N(u) / (sqrt(V) Phi(u)).
    for label in model.channel.labels:
        f_out = model.output.f_out[label]
        show(3, f"f_out(y={label}, omega, V)", f_out)
        point = {s.omega: sp.Rational(-3, 2), s.V: sp.Rational(1, 3)}
        u = label * point[s.omega] / sp.sqrt(point[s.V])
        expected = label * sp.exp(-u**2 / 2) / sp.sqrt(2 * sp.pi) / (sp.sqrt(point[s.V]) * sp.erfc(-u / sp.sqrt(2)) / 2)
        assert abs(sp.N(f_out.rewrite(sp.erfc).subs(point) - expected, 30)) < 1e-25

    # Step 4: the Gaussian prior tilted by N(w; R, Sigma): mean R rho / (rho + Sigma).
    show(4, "f_w(Sigma, R) and its variance", model.input.f_w_gamp)
    print(f"    variance: {model.input.variance_gamp}")
    assert sp.simplify(model.input.f_w_gamp.subs(s.rho, 1) - s.R / (1 + s.Sigma)) == 0
    assert sp.simplify(model.input.variance_gamp - s.Sigma * sp.diff(model.input.f_w_gamp, s.R)) == 0

    # Step 5: the RS free entropy under the Nishimori identities.
    free_entropy = rs_free_entropy(model)
    show(5, "Psi_w(qhat) (closed form)", free_entropy.Psi_w)
    assert sp.simplify(free_entropy.Psi_w - (s.qhat * s.rho / 2 - sp.log(1 + s.qhat * s.rho) / 2)) == 0

    # Step 6: the saddle point in qhat gives q = rho^2 qhat / (1 + rho qhat); q = qhat/(1+qhat) at rho = 1.
    q_equation, _ = free_entropy.saddle_point_equations()
    equations = state_evolution_equations(model)
    show(6, "q = 2 d Psi_w / d qhat", sp.simplify(q_equation.rhs))
    assert sp.simplify(q_equation.rhs - equations.q_of_qhat) == 0
    assert sp.simplify(equations.q_of_qhat.subs(s.rho, 1) - s.qhat / (1 + s.qhat)) == 0

    # Step 7: the other saddle point, integrated by parts, is the state-evolution map for qhat.
    show(7, "qhat = alpha E_xi[integrand], integrand:", equations.qhat_integrand)

    # Step 8: the learning curve, and its agreement with the large-alpha asymptote 0.4417 / alpha.
    numpy_model = NumpyModel(model, 1.0)
    alpha = np.array([0.5, 1.0, 2.0, 5.0, 10.0, 1e3, 1e5])
    fixed_point = solve_fixed_point(numpy_model, alpha)
    eps_bayes, _ = generalization_errors(1)
    show(8, "Learning curve at rho = 1", eps_bayes)
    print("    alpha        q              qhat            eps_Bayes       alpha*eps_Bayes")
    for row in zip(alpha, fixed_point.q, fixed_point.qhat, fixed_point.eps_bayes):
        print(f"    {row[0]:<10g} {row[1]:.12f} {row[2]:<15.8g} {row[3]:.12f} {row[0] * row[3]:.10f}")
    assert abs(alpha[-1] * fixed_point.eps_bayes[-1] - 0.4417) < 1e-4
    assert np.all(np.diff(fixed_point.eps_bayes) < 0)

    # Step 9: at alpha = 1 the fixed point satisfies both maps at 30 digits (mpmath quadrature).
    mpmath.mp.dps = 30
    q = mpmath.mpf(fixed_point.q[1])
    integrand = sp.lambdify(
        s.xi, equations.qhat_integrand.subs({s.rho: 1, s.q: sp.Float(q, 30)}), modules=[{"ndtr": mpmath.ncdf}, "mpmath"]
    )
    qhat = mpmath.quad(lambda x: integrand(x) * mpmath.npdf(x), [-40, -3, 0, 3, 40])
    show(9, f"Fixed point at alpha = 1: q = {q}, qhat = {qhat}")
    assert abs(qhat / (1 + qhat) - q) < 1e-12
    print("\nAll steps hold.")


if __name__ == "__main__":
    main()
