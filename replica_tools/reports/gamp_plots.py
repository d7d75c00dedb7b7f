"""Figures of GAMP against state evolution: finite-size scaling and per-iteration overlaps.

Like ``replica_tools.reports.plots``, the figures use a ``Figure`` with an Agg canvas, never
pyplot, and are returned as PNG bytes.
"""

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from replica_tools.reports.plots import ASYMPTOTE_STYLE, GAMP_STYLE, THEORY_STYLE


def _png(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def plot_finite_size(n, mean, sem, *, eps_inf, eps_inf_error, slope, eps_se, title=None, dpi=120):
    """Plot the mean error against 1 / n with its fit eps_inf + a / n and the SE value at 1 / n = 0.

    The fit's eps_inf is drawn at 1 / n = 0 with its standard-error bar, next to the
    state-evolution eps_Bayes as a horizontal line.
    """
    inverse_n = 1.0 / np.asarray(n, dtype=float)
    figure = Figure(figsize=(6.4, 4.4), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()

    axes.axhline(eps_se, label=r"state evolution $\varepsilon_\mathrm{Bayes}$", **THEORY_STYLE)
    line = np.linspace(0.0, inverse_n.max() * 1.05, 100)
    axes.plot(line, eps_inf + slope * line, label=r"fit $\varepsilon_\infty + a/n$", **ASYMPTOTE_STYLE)
    axes.errorbar(inverse_n, mean, yerr=np.nan_to_num(np.asarray(sem, dtype=float)),
                  label="GAMP (mean ± s.e. over seeds)", **GAMP_STYLE)
    axes.errorbar([0.0], [eps_inf], yerr=[eps_inf_error], color="k", marker="s", markersize=5, capsize=3,
                  linestyle="none", label=r"$\varepsilon_\infty$ ± s.e.")

    axes.set_xlim(-0.03 * inverse_n.max(), inverse_n.max() * 1.08)
    axes.set_xlabel(r"$1/n$")
    axes.set_ylabel(r"generalization error $\varepsilon$")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize="small")
    if title:
        axes.set_title(title)
    return _png(figure)


def plot_trajectories(steps, q_se, trajectories, *, title=None, dpi=120):
    """Plot GAMP's m_t and q_t (seed means ± standard error) against the SE q_t, per n.

    ``trajectories`` maps n to a dictionary with m_mean, m_sem, q_mean and q_sem over
    t = 0 .. len - 1. The left panel shows the overlaps, the right panel their deviation
    from SE, where the error bars shrink like 1 / sqrt(n).
    """
    figure = Figure(figsize=(10, 4.2), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    overlap_axes, deviation_axes = figure.subplots(1, 2)
    t_se = np.arange(len(q_se))
    overlap_axes.plot(t_se, q_se, label=r"state evolution $q_t$", **THEORY_STYLE)

    count = len(trajectories)
    for index, (n, curves) in enumerate(sorted(trajectories.items())):
        color = f"C{(index + 1) % 10}"
        # Offsets keep the error bars of the different n apart.
        shift = 0.12 * (index - (count - 1) / 2)
        t = np.arange(len(curves["m_mean"]))
        reference = q_se[:len(t)]
        m_sem = np.nan_to_num(curves["m_sem"])
        q_sem = np.nan_to_num(curves["q_sem"])
        overlap_axes.errorbar(t + shift, curves["m_mean"], yerr=m_sem, color=color, marker="o", markersize=3,
                              linestyle="none", capsize=2, label=f"GAMP $m_t$, n = {n}")
        deviation_axes.errorbar(t + shift, curves["m_mean"] - reference, yerr=m_sem, color=color, marker="o",
                                markersize=3, linestyle="none", capsize=2, label=f"$m_t$, n = {n}")
        deviation_axes.errorbar(t + shift, curves["q_mean"] - reference, yerr=q_sem, color=color, marker="x",
                                markersize=4, linestyle="none", capsize=2, label=f"$q_t$, n = {n}")

    deviation_axes.axhline(0.0, **THEORY_STYLE)
    overlap_axes.set_xlabel("iteration $t$")
    overlap_axes.set_ylabel("overlap")
    overlap_axes.legend(fontsize="small")
    deviation_axes.set_xlabel("iteration $t$")
    deviation_axes.set_ylabel(r"GAMP $-$ state evolution $q_t$")
    deviation_axes.legend(fontsize="x-small", ncols=2)
    for axes in (overlap_axes, deviation_axes):
        axes.grid(True, alpha=0.3)
        axes.set_xticks(t_se)
    if title:
        figure.suptitle(title)
    return _png(figure)
