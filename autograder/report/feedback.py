"""feedback.md and feedback.html for the student, and the one-screen stdout summary.

Every text that came from the submission (its name, problems, notes, item outputs) is
capped and made printable first (autograder.report.text.bounded), then escaped for the
format: inline markdown escapes or a fence longer than any backtick run in feedback.md,
html.escape in feedback.html.
"""
import html

from autograder.grade import late
from autograder.report.text import bounded, markdown_block, markdown_inline

HIDDEN_NOTE = "hidden until grades are published"


def _points(value):
    value = round(float(value), 2)
    return ("%d" % value) if value == int(value) else ("%g" % value)


def _status(item):
    if item.passed:
        return "passed"
    return "partial" if item.score > 0 else "failed"


def markdown(result):
    result = bounded(result)
    md = markdown_inline
    lines = ["# Grading report: %s" % md(result.submission), "",
             "**Score: %s / %s**" % (_points(result.score), _points(result.max_score)), ""]
    late_line = late.describe(result.score, result.max_score, result.extra.get("late"))
    if late_line:
        lines += ["**%s**" % md(late_line), ""]
    if result.problems:
        lines += ["## Problems with the submission", ""]
        lines += ["- %s" % md(p) for p in result.problems] + [""]
    if result.grader_error:
        lines += ["> The grader hit an internal error; the course staff has been told. "
                  "Scores below may be incomplete.", ""]
    lines += ["## Items", "", "| Item | Points | Status |", "|---|---|---|"]
    for item in result.items:
        hidden = " (%s)" % HIDDEN_NOTE if item.visibility != "visible" else ""
        lines.append("| `%s`%s | %s / %s | %s |" % (item.item_id, hidden, _points(item.score),
                                                   _points(item.max_score), _status(item)))
    lines.append("")
    details = [item for item in result.items if not item.passed or item.output.strip()]
    if details:
        lines += ["## Details", ""]
        for item in details:
            lines += ["### `%s` - %s / %s" % (item.item_id, _points(item.score),
                                              _points(item.max_score)), ""]
            lines += [markdown_block(item.output.rstrip() or "(no message)"), ""]
    if result.notes:
        lines += ["## Notes", ""] + ["- %s" % md(n) for n in result.notes] + [""]
    return "\n".join(lines)


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Grading report: {submission}</title>
<style>
body {{ font-family: sans-serif; max-width: 60em; margin: 2em auto; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: .3em .6em; }}
.passed {{ color: #060; }} .failed {{ color: #a00; }} .partial {{ color: #a60; }}
pre {{ background: #f4f4f4; padding: .6em; white-space: pre-wrap; }}
/* a long unbroken token from student code (a path, a repr) must wrap, not widen the page */
pre, code, td, li, p {{ overflow-wrap: anywhere; }}
</style></head><body>
<h1>Grading report: {submission}</h1>
<p><strong>Score: {score} / {max_score}</strong></p>
{late}{problems}
<h2>Items</h2>
<table><tr><th>Item</th><th>Points</th><th>Status</th></tr>
{rows}
</table>
{details}
{notes}
</body></html>
"""


def html_page(result):
    result = bounded(result)
    e = html.escape
    problems = ""
    if result.problems or result.grader_error:
        entries = [e(p) for p in result.problems]
        if result.grader_error:
            entries.append("The grader hit an internal error; scores may be incomplete.")
        problems = "<h2>Problems with the submission</h2><ul>%s</ul>" % "".join(
            "<li>%s</li>" % p for p in entries)
    rows = []
    for item in result.items:
        hidden = " <em>(%s)</em>" % HIDDEN_NOTE if item.visibility != "visible" else ""
        status = _status(item)
        rows.append('<tr><td><code>%s</code>%s</td><td>%s / %s</td><td class="%s">%s</td></tr>'
                    % (e(item.item_id), hidden, _points(item.score), _points(item.max_score),
                       e(status), e(status)))
    details = []
    for item in result.items:
        if not item.passed or item.output.strip():
            details.append("<h3><code>%s</code></h3><pre>%s</pre>"
                           % (e(item.item_id), e(item.output.rstrip() or "(no message)")))
    notes = ""
    if result.notes:
        notes = "<h2>Notes</h2><ul>%s</ul>" % "".join("<li>%s</li>" % e(n) for n in result.notes)
    late_line = late.describe(result.score, result.max_score, result.extra.get("late"))
    return PAGE.format(submission=e(result.submission), score=_points(result.score),
                       max_score=_points(result.max_score), problems=problems,
                       late='<p class="late"><strong>%s</strong></p>\n' % e(late_line)
                       if late_line else "",
                       rows="\n".join(rows), details=("<h2>Details</h2>" + "".join(details))
                       if details else "", notes=notes)


def summary(result, width=100):
    """At most ~30 lines: the total, one line per item, and the submission's problems."""
    result = bounded(result)
    lines = ["%s: %s / %s  (%.1f s)" % (result.submission, _points(result.score),
                                        _points(result.max_score), result.execution_time)]
    late_line = late.describe(result.score, result.max_score, result.extra.get("late"))
    if late_line:
        lines.append(fit("  " + late_line, width))
    for problem in result.problems[:5]:
        lines.append(fit("  ! " + " ".join(problem.split()), width))
    if len(result.problems) > 5:
        lines.append("  ! ... and %d more problems" % (len(result.problems) - 5))
    for item in result.items:
        first = ""
        if not item.passed:
            first = "  " + _headline(item.output)
        line = "  %-8s %5s/%-3s %s%s" % (_status(item), _points(item.score), _points(item.max_score),
                                         item.item_id, first)
        lines.append(fit(line, width))
    if result.grader_error:
        lines.append(fit("  GRADER ERROR: " + result.grader_error.splitlines()[0], width))
    return "\n".join(lines)


def fit(line, width):
    """line shortened to at most `width` characters at a word boundary, with "..." where
    it was cut (a cut never splits a number: "held-out accuracy 24" was 0.24...)."""
    if len(line) <= width:
        return line
    cut = line.rfind(" ", 0, width - 3)
    if cut <= len(line) - len(line.lstrip()) + 8:  # no space worth cutting at
        cut = width - 3
    return line[:cut].rstrip() + "..."


def _headline(output):
    """The most telling line of an item's feedback (skipping 'Failed.' / 'k of n cases passed.')."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    for line in lines:
        if line in ("Failed.",) or line.endswith("cases passed.") or " cases passed: " in line \
                or line.startswith("Case"):
            continue
        return line
    return lines[0] if lines else ""
