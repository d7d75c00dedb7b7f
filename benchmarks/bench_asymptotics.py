"""Time the large-alpha constants to many digits, the certified enclosure and the mpmath fixed point.

Each figure is the wall time of one library call, after the symbolic derivation (timed once,
first) and the zeros of Phi are cached. ``large_alpha_constants`` runs the trapezoidal rule
twice (at digits + 5 and digits + 12) for k, m_1 and m_2; the figure includes both runs. For
comparison, mpmath's tanh-sinh ``quad`` computes k alone at the same precision, once.

Usage: python benchmarks/bench_asymptotics.py [--digits 50,100,1000] [--certified 100] [--repeats 3]
"""

import argparse
import time

import mpmath

from replica_tools.numerics.compiled import compile_mpmath
from replica_tools.solvers.asymptotics import (
    certified_constants,
    check_expansion,
    large_alpha_constants,
    perceptron_expansion,
    phi_zeros,
    reference_model,
)
from replica_tools.solvers.fixed_point_mp import solve_fixed_point_mp
from replica_tools.symbolic import symbols as s


def best_time(function, repeats):
    """Return (the shortest wall time of ``repeats`` calls, the last result)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def tanh_sinh_k(digits):
    """k by mpmath's default quadrature on the whole line, for comparison with the trapezoidal rule."""
    weight = compile_mpmath(perceptron_expansion(0).weight, (s.t,))
    with mpmath.workdps(digits + 10):
        return mpmath.quad(weight, [-mpmath.inf, -4, 0, 4, mpmath.inf])


def integers(text):
    return [int(item) for item in text.split(",") if item]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=integers, default=[50, 100, 1000],
                        help="comma-separated digit counts for large_alpha_constants")
    parser.add_argument("--certified", type=integers, default=[100],
                        help="comma-separated digit counts for certified_constants")
    parser.add_argument("--tanh-sinh", type=integers, default=[100],
                        help="comma-separated digit counts for the tanh-sinh comparison")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed repeats of calls under 10 s (longer ones run once)")
    args = parser.parse_args()

    print(f"mpmath {mpmath.__version__}, backend {mpmath.libmp.BACKEND}")
    start = time.perf_counter()
    reference_model().output
    for corrections in (0, 2):
        perceptron_expansion(corrections)
    phi_zeros()
    print(f"derive the model and the expansions (SymPy), once: {time.perf_counter() - start:.2f} s")

    for digits in args.digits:
        repeats = args.repeats if digits <= 300 else 1
        seconds, constants = best_time(lambda: large_alpha_constants(digits), repeats)
        print(f"constants to {digits} digits: {seconds:.3f} s ({constants.nodes} nodes in the second run, "
              f"{constants.C_bayes.digits} digits of C agree)")

    for digits in args.tanh_sinh:
        seconds, _ = best_time(lambda: tanh_sinh_k(digits), 1)
        print(f"k alone by tanh-sinh (mpmath quad) at {digits} digits, one run: {seconds:.3f} s")

    for digits in args.certified:
        repeats = args.repeats if digits <= 200 else 1
        seconds, certified = best_time(lambda: certified_constants(digits), repeats)
        print(f"certified to {digits} digits: {seconds:.3f} s ({certified.evaluations} integrand evaluations, "
              f"radius of C {certified.C_bayes.rad().str(3, radius=False)})")

    for alpha in (1, 10**8):
        seconds, _ = best_time(lambda: solve_fixed_point_mp(reference_model(), alpha, dps=30), args.repeats)
        print(f"fixed point at alpha = {alpha:g}, 30 digits: {seconds:.3f} s")

    constants = large_alpha_constants(80)
    seconds, check = best_time(lambda: check_expansion(constants), 1)
    print(f"table alpha = 1e2 ... 1e8 at {check.dps} digits: {seconds:.1f} s, "
          f"residual decay exponent {check.decay_exponent:.5f}")


if __name__ == "__main__":
    main()
