"""feedback.md and feedback.html for the student, and the one-screen stdout summary.

Every text that came from the submission (its name, problems, notes, item outputs) is
capped and made printable first (autograder.results.text.bounded), then escaped for the
format: inline markdown escapes or a fence longer than any backtick run in feedback.md,
html.escape in feedback.html.

Each item says which notebook section and nndl function it grades, how its points are
given (per case group, with what each group earned, or all cases or per case, with the
count that passed), on which inputs it was graded,
and for the accuracy item the credited value and the rule. Failed items come first in the
details; the html table links to them. Pictures (autograder.report.pictures) are inlined in
the html and written beside feedback.md, which links them. Hidden items are labelled
"hidden until grades are published" (Gradescope's after_published) unless the result says
grades are published (the renderers' `published` argument, from `grade --published`).
"""
import base64
import html
import re

from autograder.checks import kinds
from autograder.policy import late
from autograder.results.text import bounded, markdown_block, markdown_inline, printable

HIDDEN_NOTE = "hidden until grades are published"


def output_cases(kind_name: str) -> bool:
    """Whether the item's cases are inputs compared with the reference (the kind's
    compares_outputs; False for a name that is not a registered kind)."""
    return kinds.declares(kind_name, "compares_outputs")


# what the accuracy outcome's heldout_evaluation values mean
EVALUATIONS = {
    "trusted": "the held-out images were classified by the course's own ThreeLayerConvNet "
               "with your saved weights (it agreed with your code on the validation images)",
    "student-code": "the held-out images were classified by your ThreeLayerConvNet code",
}
# the checks' own first line of a failing item, which the reports state from the counts
_RULE_LINE = re.compile(r"^\d+ of \d+ cases passed: ")


def _points(value):
    value = round(float(value), 2)
    return ("%d" % value) if value == int(value) else ("%g" % value)


def _status(item):
    if item.passed:
        return "passed"
    if item.score >= item.max_score - 1e-9:
        return "full points"   # what failed is charged in another item (checks/charges.py)
    return "partial" if item.score > 0 else "failed"


def _percent(value):
    return "%.1f%%" % (100.0 * float(value))


def _threshold(value):
    return ("%.1f" % (100.0 * float(value))).rstrip("0").rstrip(".") + "%"


def _hidden_label(item, published):
    """The label of an item students do not see on Gradescope until grades are published."""
    return HIDDEN_NOTE if item.visibility != "visible" and not published else ""


def what_it_tests(item):
    """'Tests nndl.x.f (Notebook.ipynb: Section).' or '' when the spec names neither."""
    if not item.function and not item.section:
        return ""
    where = " (%s)" % item.section if item.section else ""
    return "Tests %s%s." % (item.function or item.item_id, where)


def scoring_line(item):
    """How many cases passed and how the item gives points ('' when it does not apply, or
    when the item's output states it per case group)."""
    if item.passed or item.cases_total <= 1 or len(item.groups or ()) > 1:
        return ""
    passed, total = item.cases_passed, item.cases_total
    if item.scoring == "per_case":
        return ("%d of %d cases passed; this item gives its points per case passed "
                "(%d/%d of %s)." % (passed, total, passed, total, _points(item.max_score)))
    if passed:
        return "%d of %d cases passed; this item gives points only when all pass." % (passed, total)
    return "None of the %d cases passed; this item gives points only when all pass." % total


def inputs_line(item):
    """On which inputs the item was graded."""
    if not output_cases(item.kind) or item.cases_total == 0:
        return ""
    if item.visibility == "visible":
        return ("Graded on new inputs of the same shapes as the notebook's and the self-check's "
                "(drawn for this run), so a passing self-check does not guarantee these cases.")
    return "Graded on secret inputs, compared with the reference implementation."


def accuracy_lines(item):
    """The accuracy rule with this submission's numbers."""
    facts = item.accuracy
    if not facts or "validation" not in facts:
        return []
    full, zero, margin = facts["full_credit_at"], facts["zero_credit_at"], facts["margin"]
    credited = facts.get("credited", facts["validation"])
    if "heldout" in facts:
        first = ("Credited accuracy = min(validation %s, held-out %s + margin %s) = %s."
                 % (_percent(facts["validation"]), _percent(facts["heldout"]),
                    _threshold(margin), _percent(credited)))
    else:
        first = "Credited accuracy = validation accuracy = %s (no held-out images were scored)." \
            % _percent(credited)
    lines = [first,
             "Rule: full credit at %s or more, none at %s or less, linear between: %s / %s "
             "points." % (_threshold(full), _threshold(zero), _points(item.score),
                          _points(item.max_score))]
    evaluation = facts.get("heldout_evaluation")
    if evaluation not in (None, "", {}):
        if isinstance(evaluation, dict):
            evaluation = ", ".join("%s: %s" % (k, v) for k, v in sorted(evaluation.items()))
        evaluation = EVALUATIONS.get(evaluation, str(evaluation).rstrip("."))
        reason = facts.get("review_reason")
        if reason:
            evaluation += ", because %s; the course staff will review this result" % (
                str(reason).rstrip("."))
        lines.append("Held-out evaluation: %s." % evaluation)
    if "heldout" in facts:
        images = ("the course's own labelled images, never published"
                  if facts.get("heldout_source") == "the course's held-out file"
                  else "CIFAR-10 images your model has not seen, moved slightly for each run")
        lines.append("The held-out images are %s; the margin lets a model that generalises "
                     "lose a little there without losing points." % images)
    return lines


def item_lines(item, published):
    """The plain-text facts shown above an item's output, in order."""
    lines = [what_it_tests(item), scoring_line(item), inputs_line(item)]
    label = _hidden_label(item, published)
    if label:
        lines.append("On Gradescope this item is %s." % label)
    lines += accuracy_lines(item)
    return [line for line in lines if line]


GROUP_STATES = {"passed": "passed", "failed": "failed", "error": "error",
                "not_charged": "failed, charged in another item"}


def group_rows(item):
    """(group, 'earned / points', 'passed of total', state) per case group of a failed item
    scored by groups ([] otherwise: the output's first line says it)."""
    if item.passed or len(item.groups or ()) < 2:
        return []
    return [(g.name, "%s / %s" % (_points(g.earned), _points(g.points)),
             "%d of %d" % (g.cases_passed, g.cases_total), GROUP_STATES.get(g.status, g.status))
            for g in item.groups]


def _without_group_block(lines):
    """The output's lines without the checks' case-group block (its rule line and one
    indented line per group), which the reports show as a table."""
    if not lines or not lines[0].startswith("Case groups ("):
        return lines
    rest = lines[1:]
    while rest and rest[0].startswith("  ") and " points, " in rest[0]:
        rest = rest[1:]
    return ["Case groups: " + lines[0][len("Case groups ("):].rstrip("):") + "."] + rest


# the accuracy check's own lines, which accuracy_lines states from the numbers
_ACCURACY_RESTATED = re.compile(r"^(Note: )?(validation accuracy \d|The held-out images were "
                                r"classified by |Passed: the case\.$)")


def item_output(item):
    """The item's output without the checks' first line when the reports state it already:
    the case count (scoring_line), a bare "Failed." (the heading's status), the case-group
    lines (group_rows), or the accuracy check's numbers and evaluation (accuracy_lines)."""
    lines = item.output.rstrip().splitlines()
    if accuracy_lines(item):
        lines = [line for line in lines if not _ACCURACY_RESTATED.match(line.strip())]
        if not [line for line in lines if line.strip() not in ("", "Failed.")
                and not line.startswith("Case ")]:
            lines = []   # nothing left but a case label
    if group_rows(item):
        lines = _without_group_block(lines)
    if lines and ((item.cases_total > 1 and _RULE_LINE.match(lines[0]))
                  or (item.cases_total == 1 and lines[0] == "Failed.")):
        lines = lines[1:]
    return "\n".join(lines).strip("\n")


def detailed(items):
    """(index, item) of the items worth a detail section: failed first (spec order within),
    then the others with something to say."""
    worth = [(index, item) for index, item in enumerate(items)
             if not item.passed or item.output.strip() or item.accuracy]
    return [pair for pair in worth if not pair[1].passed] + [pair for pair in worth if pair[1].passed]


def lost_points(items):
    """(index, item, points lost, headline) of each item that lost points, in spec order:
    what the reports list before the items table."""
    return [(index, item, round(item.max_score - item.score, 2), _lost_headline(item))
            for index, item in enumerate(items)
            if not item.passed and item.max_score - item.score > 1e-9]


def _lost_headline(item):
    facts = item.accuracy or {}
    if "credited" in facts:   # the number the rule prices, not the check's whole line
        return "credited accuracy %s" % _percent(facts["credited"])
    return _headline(item.output)


def anchor(item, index):
    return "item-%d-%s" % (index, re.sub(r"[^A-Za-z0-9_.-]", "_", item.item_id))


def _figures(result, figures):
    if figures is None:
        from autograder.report.pictures import figures_of
        figures = figures_of(result)
    by_item = {}
    for figure in figures:
        by_item.setdefault(figure.item_index, []).append(figure)
    return by_item


def _code(text):
    """An inline code span of a spec name (no backticks, one printable line)."""
    text = printable(text, one_line=True).replace("`", "'")
    return "`%s`" % text if text else ""


def markdown(result, figures=None, published=False):
    """feedback.md; `figures` (pictures.figures_of) are linked by file name: write_reports
    writes them beside it."""
    result = bounded(result)
    by_item = _figures(result, figures)
    md = markdown_inline
    lines = ["# Grading report: %s" % md(result.submission), "",
             "**Score: %s / %s**" % (_points(result.score), _points(result.max_score)), ""]
    late_line = late.describe(result.score, result.max_score, result.late)
    if late_line:
        lines += ["**%s**" % md(late_line), ""]
    if result.problems:
        lines += ["## Problems with the submission", ""]
        lines += ["- %s" % md(p) for p in result.problems] + [""]
    if result.grader_error:
        lines += ["> The grader hit an internal error; the course staff has been told. "
                  "Scores below may be incomplete.", ""]
    lost = lost_points(result.items)
    if lost:
        lines += ["## What lost points", ""]
        lines += ["- [`%s`](#%s): lost %s of %s%s" % (
            item.item_id, anchor(item, index), _points(points), _points(item.max_score),
            (" - " + md(headline)) if headline else "") for index, item, points, headline in lost]
        lines.append("")
    lines += ["## Items", "", "| Item | Tests | Points | Status |", "|---|---|---|---|"]
    for item in result.items:
        label = _hidden_label(item, published)
        tests = " ".join(part for part in (_code(item.function), md(item.section)) if part)
        lines.append("| `%s`%s | %s | %s / %s | %s |" % (
            item.item_id, (" (%s)" % label) if label else "", tests, _points(item.score),
            _points(item.max_score), _status(item)))
    lines.append("")
    details = detailed(result.items)
    if details:
        lines += ["## Details", ""]
        for index, item in details:
            lines += ["### `%s` - %s / %s (%s)" % (item.item_id, _points(item.score),
                                                   _points(item.max_score), _status(item)), ""]
            facts = item_lines(item, published)
            lines += [md(line) for line in facts] + ([""] if facts else [])
            rows = group_rows(item)
            if rows:
                lines += ["| Case group | Points | Cases passed | Status |", "|---|---|---|---|"]
                lines += ["| %s |" % " | ".join(md(cell) for cell in row) for row in rows] + [""]
            output = item_output(item)
            if output or not (item.passed or accuracy_lines(item)):
                lines += [markdown_block(output or "(no message)"), ""]
            for figure in by_item.get(index, []):
                reading = (" %s." % md(figure.reading)) if figure.reading else ""
                lines += ["Picture: [%s](%s).%s" % (md(figure.caption), figure.name, reading), ""]
    if result.notes:
        lines += ["## Notes", ""] + ["- %s" % md(n) for n in result.notes] + [""]
    return "\n".join(lines)


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Grading report: {submission}</title>
<style>
body {{ font-family: sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: .3em .6em; }}
.passed {{ color: #060; }} .failed {{ color: #a00; }} .partial {{ color: #a60; }}
pre {{ background: #f4f4f4; padding: .6em; white-space: pre-wrap; }}
/* a long unbroken token from student code (a path, a repr) must wrap, not widen the page */
pre, code, td, li, p, h3 {{ overflow-wrap: anywhere; }}
figure {{ margin: .8em 0; }} figure img {{ max-width: 100%; height: auto; }}
figcaption {{ font-size: .9em; color: #333; }}
.facts {{ margin: .3em 0; }} table.groups {{ margin: .4em 0; }}
/* a score or a status is one unit: "passe/d" and "20 /\n20" read wrong */
td.points, td.status, span.status, th {{ white-space: nowrap; overflow-wrap: normal; }}
.lost li {{ margin: .2em 0; }} code.id {{ overflow-wrap: normal; }}
</style></head><body>
<h1>Grading report: {submission}</h1>
<p><strong>Score: {score} / {max_score}</strong></p>
{late}{problems}{lost}
<h2>Items</h2>
<table><tr><th>Item</th><th>Tests</th><th>Points</th><th>Status</th></tr>
{rows}
</table>
{details}
{notes}
</body></html>
"""


def _figure_html(figure):
    e = html.escape
    data = base64.b64encode(figure.png).decode("ascii")
    reading = ("<br><strong>%s</strong>" % e(figure.reading[:1].upper() + figure.reading[1:])) \
        if figure.reading else ""
    return ('<figure><img src="data:image/png;base64,%s" alt="%s"><figcaption>%s%s'
            '</figcaption></figure>' % (data, e(figure.caption), e(figure.caption), reading))


def html_page(result, figures=None, published=False):
    result = bounded(result)
    by_item = _figures(result, figures)
    e = html.escape
    problems = ""
    if result.problems or result.grader_error:
        entries = [e(p) for p in result.problems]
        if result.grader_error:
            entries.append("The grader hit an internal error; scores may be incomplete.")
        problems = "<h2>Problems with the submission</h2><ul>%s</ul>" % "".join(
            "<li>%s</li>" % p for p in entries)
    details_items = detailed(result.items)
    with_details = {index for index, _ in details_items}
    lost = "".join('<li><a href="#%s"><code>%s</code></a>: lost %s of %s%s</li>' % (
        e(anchor(item, index)), e(item.item_id), _points(points), _points(item.max_score),
        (" - " + e(headline)) if headline else "")
        for index, item, points, headline in lost_points(result.items))
    rows = []
    for index, item in enumerate(result.items):
        label = _hidden_label(item, published)
        hidden = " <em>(%s)</em>" % label if label else ""
        status = _status(item)
        # spec ids break after their dots, never inside a name ("gradien/t")
        name = '<code class="id">%s</code>' % e(item.item_id).replace(".", ".<wbr>")
        if index in with_details:
            name = '<a href="#%s">%s</a>' % (e(anchor(item, index)), name)
        tests = "<br>".join(part for part in (
            "<code>%s</code>" % e(item.function) if item.function else "", e(item.section))
            if part)
        rows.append('<tr><td>%s%s</td><td>%s</td><td class="points">%s / %s</td>'
                    '<td class="status %s">%s</td></tr>'
                    % (name, hidden, tests, _points(item.score), _points(item.max_score),
                       e(status), e(status)))
    details = []
    for index, item in details_items:
        status = _status(item)
        part = ['<h3 id="%s"><code>%s</code> - %s / %s <span class="status %s">(%s)</span></h3>'
                % (e(anchor(item, index)), e(item.item_id), _points(item.score),
                   _points(item.max_score), e(status), e(status))]
        part += ['<p class="facts">%s</p>' % e(line) for line in item_lines(item, published)]
        table = group_rows(item)
        if table:
            part.append('<table class="groups"><tr><th>Case group</th><th>Points</th>'
                        '<th>Cases passed</th><th>Status</th></tr>%s</table>' % "".join(
                            '<tr><td>%s</td><td>%s</td><td>%s</td><td class="%s">%s</td></tr>'
                            % (e(name), e(points), e(cases), e(state.split(",")[0]), e(state))
                            for name, points, cases, state in table))
        output = item_output(item)
        if output or not (item.passed or accuracy_lines(item)):
            part.append("<pre>%s</pre>" % e(output or "(no message)"))
        part += [_figure_html(figure) for figure in by_item.get(index, [])]
        details.append("".join(part))
    notes = ""
    if result.notes:
        notes = "<h2>Notes</h2><ul>%s</ul>" % "".join("<li>%s</li>" % e(n) for n in result.notes)
    late_line = late.describe(result.score, result.max_score, result.late)
    return PAGE.format(submission=e(result.submission), score=_points(result.score),
                       max_score=_points(result.max_score), problems=problems,
                       late='<p class="late"><strong>%s</strong></p>\n' % e(late_line)
                       if late_line else "",
                       lost='<h2>What lost points</h2><ul class="lost">%s</ul>' % lost
                       if lost else "",
                       rows="\n".join(rows), details=("<h2>Details</h2>" + "".join(details))
                       if details else "", notes=notes)


def summary(result, width=100):
    """At most ~30 lines: the total, one line per item, and the submission's problems."""
    result = bounded(result)
    lines = ["%s: %s / %s  (%.1f s)" % (result.submission, _points(result.score),
                                        _points(result.max_score), result.execution_time)]
    late_line = late.describe(result.score, result.max_score, result.late)
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
    lines += [fit(line, width) for line in where_to_look(result.items)]
    if result.grader_error:
        lines.append(fit("  GRADER ERROR: " + result.grader_error.splitlines()[0], width))
    return "\n".join(lines)


def where_to_look(items, limit=5):
    """Summary lines naming the notebook sections and functions of the lost points."""
    places = []
    for item in items:
        if item.passed or not (item.section or item.function):
            continue
        place = "%s%s" % (item.function or item.item_id,
                          (" (%s)" % item.section) if item.section else "")
        if place not in places:
            places.append(place)
    if not places:
        return []
    lines = ["  look at: " + places[0]] + ["           " + p for p in places[1:limit]]
    if len(places) > limit:
        lines.append("           ... and %d more" % (len(places) - limit))
    return lines


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
    """The most telling line of an item's feedback: the first failing case group's, else the
    first line past 'Failed.' / 'k of n cases passed.'."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    failed_group = next((line for line in lines if line.startswith("Group ")), None)
    if failed_group:   # an item scored by case groups: which group failed and what it cost
        return failed_group
    for line in lines:
        if line in ("Failed.",) or line.endswith("cases passed.") or " cases passed: " in line \
                or line.startswith("Case"):
            continue
        return line
    return lines[0] if lines else ""
