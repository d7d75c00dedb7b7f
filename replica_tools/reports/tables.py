"""Plain-text and CSV tables of named columns."""

import csv
import io
import math
import numbers

MISSING = "-"


def format_number(value, digits=6):
    """Format a number with ``digits`` significant digits, or ``MISSING`` for None and NaN."""
    if value is None:
        return MISSING
    number = float(value)
    if math.isnan(number):
        return MISSING
    return f"{number:.{digits}g}"


def format_table(columns, digits=6):
    """Return a right-aligned text table, one line per row, without a final newline.

    ``columns`` is a sequence of ``(header, values)`` or ``(header, values, digits)`` tuples of
    equal length. Numbers get ``digits`` significant digits (the column's own, if given), and
    None or NaN show as ``MISSING``.
    """
    headers = [column[0] for column in columns]
    cells = []
    for column in columns:
        column_digits = column[2] if len(column) > 2 else digits
        cells.append([format_number(value, column_digits) for value in column[1]])
    _check_lengths(headers, cells)
    widths = [max([len(header)] + [len(cell) for cell in column]) for header, column in zip(headers, cells)]
    lines = ["  ".join(header.rjust(width) for header, width in zip(headers, widths))]
    lines.append("  ".join("-" * width for width in widths))
    for row in zip(*cells):
        lines.append("  ".join(cell.rjust(width) for cell, width in zip(row, widths)))
    return "\n".join(lines)


def format_csv(columns):
    """Return CSV text with a header row. Numbers keep full precision (``repr``), NaN is empty."""
    headers = [header for header, _ in columns]
    cells = [[_csv_cell(value) for value in values] for _, values in columns]
    _check_lengths(headers, cells)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(zip(*cells))
    return buffer.getvalue()


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, numbers.Integral)):
        # bool first, because bool is also Integral.
        return str(value).lower() if isinstance(value, bool) else str(int(value))
    number = float(value)
    if math.isnan(number):
        return ""
    return repr(number)


def _check_lengths(headers, cells):
    lengths = {len(column) for column in cells}
    if len(lengths) > 1:
        sizes = ", ".join(f"{header}: {len(column)}" for header, column in zip(headers, cells))
        raise ValueError(f"table columns differ in length ({sizes})")
