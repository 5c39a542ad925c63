"""A question's figure as the seeds draw it: horizontal bars with percent labels.

Themes come most frequent first, options and scale points in the order asked;
the question is the title and the caption sits underneath. matplotlib is
imported on first use so that only processes drawing charts pay for it.
"""

from __future__ import annotations

import io
import textwrap

from coding.report_data import QuestionReport

BAR = "#1f5f8b"
WIDTH_INCHES = 8


def render(report: QuestionReport, fmt: str) -> bytes:
    """The figure as "png" or "svg" bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    rows = report.chart_rows
    labels = [textwrap.fill(label, 40) for label, _ in rows] or ["(no answers)"]
    values = [value for _, value in rows] or [0]
    height = 2.2 + 0.42 * len(labels) + 0.18 * sum(label.count("\n") for label in labels)
    # Respondents' and coders' words are text, never TeX: "$5 vs $10" stays as typed.
    with matplotlib.rc_context({"text.parse_math": False}):
        return _draw(plt, report, labels, values, height, fmt)


def _draw(plt, report: QuestionReport, labels, values, height: float, fmt: str) -> bytes:
    figure, axes = plt.subplots(figsize=(WIDTH_INCHES, height))
    try:
        positions = range(len(labels))
        bars = axes.barh(positions, values, color=BAR)
        axes.set_yticks(list(positions), labels, fontsize=9)
        axes.invert_yaxis()  # first row on top
        axes.set_xlim(0, min(100, max(values) * 1.15) or 1)
        axes.bar_label(bars, labels=[f"{v:.0f}%" for v in values], padding=3, fontsize=9)
        axes.set_xlabel("% of those answering", fontsize=9)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        title = textwrap.fill(f"{report.number}) {report.question.text}", 100)
        figure.suptitle(title, x=0.01, ha="left", fontsize=10)
        figure.text(0.01, 0.01, "\n".join(report.caption), fontsize=8, va="bottom")
        caption_inches = 0.1 + 0.16 * len(report.caption)
        figure.tight_layout(rect=(0, caption_inches / height, 1, 1))
        out = io.BytesIO()
        figure.savefig(out, format=fmt, dpi=150, metadata=_metadata(fmt))
        return out.getvalue()
    finally:
        plt.close(figure)


def _metadata(fmt: str) -> dict:
    # Fixed metadata keeps the files identical from one export to the next.
    return {"Date": None} if fmt == "svg" else {"Software": "Verbatim"}
