"""The one rule for every CSV the kit writes: no cell opens as a formula in a spreadsheet.

Submission ids come from file names the students choose, student names from LMS exports,
and both land in gradebook.csv, changes.csv, similarity.csv and the Canvas export. A cell
starting with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by Excel,
LibreOffice and Google Sheets (OWASP "CSV injection"), so such a cell is written with a
leading single quote, which spreadsheets keep as text. A plain number (`-3.5`, `+2`,
`-1e-3`) is not a formula and stays as it is, so score columns stay numeric.

    writer = csv_cells.writer(out)        # csv.writer with every cell through safe_cell
    csv_cells.original("'+1+1")           # "+1+1": what a reader of our CSVs compares
"""
import csv
import io
import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
QUOTING_TERMINATOR = "\r\n"
# a decimal number as spreadsheets read one; float() would also take "-inf", "-nan" or
# "-1_0", which a spreadsheet reads as a formula
PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def is_formula(text):
    """True when a spreadsheet would run `text` as a formula."""
    return text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text)


def safe_cell(value):
    """`value` as a CSV cell that a spreadsheet shows as text: a formula-like string gets a
    leading quote; numbers and any other value are returned unchanged."""
    if isinstance(value, str) and is_formula(value):
        return QUOTE + value
    return value


def original(cell):
    """The value safe_cell quoted (other cells unchanged), for readers matching the kit's own
    CSVs back to submission ids: "'+1+1" -> "+1+1"."""
    if cell.startswith(QUOTE) and is_formula(cell[len(QUOTE):]):
        return cell[len(QUOTE):]
    return cell


class SafeWriter:
    """A csv.writer whose rows go through safe_cell, and whose cells holding a carriage
    return or a newline are quoted whatever the line end (csv.writer quotes only the
    characters of its own lineterminator, so with "\n" a bare "\r" broke the row)."""

    def __init__(self, out, lineterminator="\n", **options):
        self._out = out
        self._lineterminator = lineterminator
        self._row = io.StringIO()
        # "\r\n" as the writer's terminator makes it quote cells holding either character
        self._writer = csv.writer(self._row, lineterminator=QUOTING_TERMINATOR, **options)

    def writerow(self, row):
        self._row.seek(0)
        self._row.truncate()
        self._writer.writerow([safe_cell(value) for value in row])
        line = self._row.getvalue()[:-len(QUOTING_TERMINATOR)] + self._lineterminator
        return self._out.write(line)

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def writer(out, lineterminator="\n", **options):
    """The kit's CSV writer (Unix line ends, as every kit CSV had): see the module docstring."""
    return SafeWriter(out, lineterminator=lineterminator, **options)
