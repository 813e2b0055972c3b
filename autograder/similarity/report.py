"""similarity.csv, similarity.html and the summary.md section of a similarity run.

Everything shown comes from students' files, so the page escapes it all (copydetect's
highlight_overlap with escape_html) and shows only excerpts around the shared code.
"""
import html
import io

from autograder.report import csv_cells
from autograder.similarity.compare import pair_slices

CSV_FILE = "similarity.csv"
HTML_FILE = "similarity.html"
SECTION_TITLE = "## Similar submissions"
CSV_COLUMNS = ("submission_a", "submission_b", "similarity_a_in_b", "similarity_b_in_a",
               "shared_tokens_a", "shared_tokens_b", "shared_lines_a", "shared_lines_b",
               "flagged")
MAX_TABLE_ROWS = 2000
EXCERPT_LINES = 6


def listed(pairs, policy):
    return [p for p in pairs if p.flagged or p.similarity >= policy.list_from]


def similarity_csv(ids, extracts, pairs, policy):
    """One row per listed pair (flagged first, then by similarity), both directions."""
    out = io.StringIO()
    writer = csv_cells.writer(out)
    writer.writerow(CSV_COLUMNS)
    for pair in sorted(listed(pairs, policy), key=lambda p: (not p.flagged, -p.similarity)):
        writer.writerow([ids[pair.a], ids[pair.b], "%.3f" % pair.similarity_a,
                         "%.3f" % pair.similarity_b, pair.tokens_a, pair.tokens_b,
                         pair.lines_a, pair.lines_b, int(pair.flagged)])
    return out.getvalue()


def summary_section(ids, pairs, model_pairs, problems, policy):
    """Markdown for summary.md: the flagged pairs and the shared models."""
    flagged = [p for p in pairs if p.flagged]
    lines = [SECTION_TITLE, "",
             "Code pairs at or above %d%% (copydetect, release stubs and provided cells "
             "excluded): %d; see similarity.html." % (round(100 * policy.threshold), len(flagged))]
    if flagged:
        lines += ["", "| Submission | Submission | Share of the first in the second | "
                      "Share of the second in the first |", "|---|---|---|---|"]
        lines += ["| `%s` | `%s` | %d%% | %d%% |" % (ids[p.a], ids[p.b],
                                                    round(100 * p.similarity_a),
                                                    round(100 * p.similarity_b))
                  for p in flagged]
    lines += ["", "Identical or near-identical cnn_model.npz weights: %d" % len(model_pairs)]
    lines += ["- `%s` and `%s`: %s" % (ids[m.a], ids[m.b], "identical" if m.identical else
                                       "relative distance %.1e" % m.relative_distance)
              for m in model_pairs]
    if problems:
        lines += ["", "Not compared in full: " + "; ".join(
            "`%s`: %s" % (sid, " / ".join(p)) for sid, p in sorted(problems.items()))]
    return "\n".join(lines) + "\n"


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Similarity report</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: .2em .5em; }}
tr.flagged td {{ background: #fde0dc; }}
.sides {{ display: flex; gap: 1em; }} .sides > div {{ flex: 1; min-width: 0; }}
pre {{ background: #f6f6f6; padding: .5em; white-space: pre-wrap; font-size: 85%; }}
mark {{ background: #ffd54f; }}
</style></head><body>
<h1>Similarity report</h1>
<p>{intro}</p>
<h2>Pairs</h2>
<table><tr><th>Submission A</th><th>Submission B</th><th>A in B</th><th>B in A</th>
<th>Shared tokens (A / B)</th><th>Flagged</th></tr>
{rows}
</table>
<h2>cnn_model.npz</h2>
{models}
{problems}
<h2>Flagged pairs side by side</h2>
{details}
</body></html>
"""


def similarity_html(ids, extracts, pairs, model_pairs, problems, policy):
    from copydetect.utils import highlight_overlap
    e = html.escape
    shown = listed(pairs, policy)
    rows = []
    for pair in shown[:MAX_TABLE_ROWS]:
        rows.append('<tr class="%s"><td><a href="#pair-%d-%d">%s</a></td><td>%s</td>'
                    '<td>%d%%</td><td>%d%%</td><td>%d / %d</td><td>%s</td></tr>'
                    % ("flagged" if pair.flagged else "", pair.a, pair.b, e(ids[pair.a]),
                       e(ids[pair.b]), round(100 * pair.similarity_a),
                       round(100 * pair.similarity_b), pair.tokens_a, pair.tokens_b,
                       "yes" if pair.flagged else ""))
    if len(shown) > MAX_TABLE_ROWS:
        rows.append('<tr><td colspan="6">... %d more pairs in similarity.csv</td></tr>'
                    % (len(shown) - MAX_TABLE_ROWS))
    models = "<p>None identical or near-identical.</p>"
    if model_pairs:
        models = "<table><tr><th>Submission A</th><th>Submission B</th><th>Weights</th></tr>%s" \
                 "</table>" % "".join(
                     "<tr class=\"flagged\"><td>%s</td><td>%s</td><td>%s</td></tr>"
                     % (e(ids[m.a]), e(ids[m.b]), "identical" if m.identical
                        else "relative distance %.1e" % m.relative_distance) for m in model_pairs)
    problem_html = ""
    if problems:
        problem_html = "<h2>Not compared in full</h2><ul>%s</ul>" % "".join(
            "<li>%s: %s</li>" % (e(sid), e(" / ".join(p))) for sid, p in sorted(problems.items()))
    details = []
    for pair in [p for p in pairs if p.flagged][:policy.html_max_pairs]:
        slices = pair_slices(extracts, pair, policy.noise_tokens)
        sides = []
        for index, side in zip((pair.a, pair.b), slices):
            code, _ = highlight_overlap(extracts[index].code, side, "<mark>", "</mark>",
                                        truncate=EXCERPT_LINES, escape_html=True)
            sides.append("<div><h4>%s</h4><pre>%s</pre></div>" % (e(ids[index]), code))
        details.append('<h3 id="pair-%d-%d">%s and %s: %d%% / %d%%</h3><div class="sides">%s'
                       '</div>' % (pair.a, pair.b, e(ids[pair.a]), e(ids[pair.b]),
                                   round(100 * pair.similarity_a), round(100 * pair.similarity_b),
                                   "".join(sides)))
    intro = ("%d submissions; %d pairs listed (similarity from %d%%), %d flagged (from %d%% "
             "and %d shared tokens). Similarity of A in B: the share of A's own code (release "
             "stubs and provided cells excluded, names and comments ignored) also found in B."
             % (len(ids), len(shown), round(100 * policy.list_from),
                sum(p.flagged for p in pairs), round(100 * policy.threshold),
                policy.min_shared_tokens))
    return PAGE.format(intro=e(intro), rows="\n".join(rows), models=models,
                       problems=problem_html, details="\n".join(details) or "<p>None.</p>")


def replace_section(summary_text, section):
    """summary.md with its similarity section replaced by (or extended with) `section`."""
    if SECTION_TITLE in summary_text:
        head, _, rest = summary_text.partition(SECTION_TITLE)
        tail = rest.split("\n## ", 1)
        rest = ("\n## " + tail[1]) if len(tail) > 1 else ""
        return head.rstrip("\n") + "\n\n" + section + rest
    return summary_text.rstrip("\n") + "\n\n" + section
