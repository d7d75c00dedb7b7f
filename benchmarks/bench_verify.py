"""Time the symbolic verification: Phi_RS and its saddle points, each identity check, the slide audit.

Run as ``python benchmarks/bench_verify.py`` from the repository root (the audit reads
``derivations/slides_audit.py``). Each step runs once in a fresh process, so the times include
SymPy's first-use costs, such as deriving Z_out and f_w, in the step that triggers them.
"""

import time

import mpmath

from replica_tools.numerics.compiled import NumpyModel
from replica_tools.reports import audit
from replica_tools.solvers.state_evolution import solve_fixed_point
from replica_tools.symbolic import checks, perceptron
from replica_tools.symbolic.free_entropy import rs_free_entropy


def timed(label, function):
    start = time.perf_counter()
    result = function()
    print(f"{time.perf_counter() - start:8.2f} s  {label}")
    return result


def main():
    model = perceptron()
    timed("derive Z_out, f_out, Z_w, f_w (the model's own derivation)", lambda: (model.output, model.input))
    free_entropy = timed("derive Phi_RS with six order parameters", lambda: rs_free_entropy(model))
    timed("six saddle-point equations (differentiation under the integral)",
          lambda: free_entropy.saddle_point_equations)
    timed("Nishimori substitution", lambda: free_entropy.bayes_optimal)
    timed("qhat equation by Gaussian integration by parts", lambda: free_entropy.qhat_equation_by_parts)

    solution = solve_fixed_point(NumpyModel(model, 1.0), [1.0])
    point = (1.0, float(solution.q[0]), float(solution.qhat[0]))
    steps = [
        ("check f_out = d_omega log Z_out", lambda: checks.check_f_out_is_log_derivative(model)),
        ("check d_omega f_out integral form", lambda: checks.check_df_out_integral_form(model)),
        ("check Nishimori E[d_omega f_out] = -E[f_out^2]", lambda: checks.check_output_nishimori(model)),
        ("check variance = Sigma d_R f_w", lambda: checks.check_prior_variance(model)),
        ("check SE = RS saddle points", lambda: checks.check_se_equals_rs(model, free_entropy)),
        ("check Nishimori reduction", lambda: checks.check_nishimori_reduction(model, free_entropy)),
        ("check stationarity at alpha = 1", lambda: checks.check_stationarity(model, *point, free_entropy=free_entropy)),
        ("check Gaussian reduction", lambda: checks.check_gaussian_reduction(model, free_entropy=free_entropy)),
        ("check one-dimensional qhat equation", lambda: checks.check_qhat_erf_form(model, free_entropy=free_entropy)),
    ]
    total = 0.0
    for label, function in steps:
        start = time.perf_counter()
        result = function()
        elapsed = time.perf_counter() - start
        total += elapsed
        print(f"{elapsed:8.2f} s  {label}: {result.status} (residual {result.residual:.1e})")
    print(f"{total:8.2f} s  all nine checks")

    claims = audit.load_claims()
    start = time.perf_counter()
    with mpmath.workdps(audit.DIGITS):
        results = audit.run_audit(claims)
    holding, differing = audit.verdict_counts(results)
    print(f"{time.perf_counter() - start:8.2f} s  slide audit: {len(results)} equations, {holding} hold, {differing} differ")


if __name__ == "__main__":
    main()
