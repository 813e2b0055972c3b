"""similarity.csv, similarity.html and the summary.md section of a similarity run.

Each pair says why it is listed: its primary measure (the graded functions, or whole
files when one side does not parse or wrote no graded function) and which functions
match and how much. Everything shown comes from students' files, so the page escapes it
all and shows only the matching functions (or, for a pair measured by whole files,
excerpts around the shared code). Only lines that a shared fingerprint of the students'
own code covers are marked: release statements, docstrings and comments (the release's
`# YOUR CODE HERE` banners) never produce a fingerprint, so they are never marked.
"""
import html
import io

from autograder.files import csv_cells
from autograder.submission.layout import MODEL_FILE
from autograder.similarity.compare import function_matches, matched_lines, pair_slices

CSV_FILE = "similarity.csv"
HTML_FILE = "similarity.html"
SECTION_TITLE = "## Similar submissions"
# similarity_a_in_b ... shared_lines_b: whole files (the columns of earlier reports, kept
# in place); similarity: the primary measure, the one `flagged` follows
CSV_COLUMNS = ("submission_a", "submission_b", "similarity_a_in_b", "similarity_b_in_a",
               "shared_tokens_a", "shared_tokens_b", "shared_lines_a", "shared_lines_b",
               "flagged", "similarity", "measured_by", "functions_a_in_b", "functions_b_in_a",
               "shared_function_tokens", "matching_functions")
MAX_TABLE_ROWS = 2000
MAX_DETAILED = 2000           # pairs whose functions are listed one by one (CSV and page)
MAX_FUNCTIONS_SHOWN = 12      # functions side by side per pair
EXCERPT_LINES = 6


def listed(pairs, policy):
    return [p for p in pairs if p.flagged or p.similarity >= policy.list_from]


def measured_by(pair):
    return "whole files (%s)" % pair.by_tokens if pair.by_tokens else "graded functions"


def matching(extracts, pair, comparison_common=()):
    """[FunctionMatch] with anything shared, best first."""
    return [m for m in function_matches(extracts[pair.a], extracts[pair.b], comparison_common)
            if m.shared]


def describe(matches, limit=6):
    """"conv_layers.conv_forward_naive 100%/96%; ..." (share of A's, of B's)."""
    text = "; ".join("%s %d%%/%d%%" % (m.name, round(100 * m.share_a), round(100 * m.share_b))
                     for m in matches[:limit])
    return text + ("; ..." if len(matches) > limit else "")


def _ordered(pairs, policy):
    return sorted(listed(pairs, policy), key=lambda p: (not p.flagged, -p.similarity))


def similarity_csv(ids, extracts, pairs, policy, common=()):
    """One row per listed pair (flagged first, then by similarity), both directions; the
    matching functions for the first MAX_DETAILED rows."""
    out = io.StringIO()
    writer = csv_cells.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row, pair in enumerate(_ordered(pairs, policy)):
        matches = describe(matching(extracts, pair, common), limit=1000) \
            if row < MAX_DETAILED and pair.function_shared else ""
        writer.writerow([ids[pair.a], ids[pair.b], "%.3f" % pair.similarity_a,
                         "%.3f" % pair.similarity_b, pair.tokens_a, pair.tokens_b,
                         pair.lines_a, pair.lines_b, int(pair.flagged),
                         "%.3f" % pair.similarity, measured_by(pair),
                         "%.3f" % pair.function_a, "%.3f" % pair.function_b,
                         pair.function_shared, matches])
    return out.getvalue()


def summary_section(ids, pairs, model_pairs, problems, policy, prior=0):
    """Markdown for summary.md: the flagged pairs (why each one) and the shared models."""
    flagged = [p for p in pairs if p.flagged]
    lines = [SECTION_TITLE, "",
             "Pairs at or above %d%% of one student's graded functions (what they wrote, names "
             "ignored; release stubs, provided cells and passages shared by more than %d%% of "
             "the class excluded)%s: %d; see similarity.html."
             % (round(100 * policy.threshold), round(100 * policy.common_share),
                ", compared with %d prior submissions too" % prior if prior else "",
                len(flagged))]
    if flagged:
        lines += ["", "| Submission | Submission | Share of the first in the second | "
                      "Share of the second in the first | Measured by |", "|---|---|---|---|---|"]
        for p in flagged:
            a_share, b_share = (p.similarity_a, p.similarity_b) if p.by_tokens else \
                (p.function_a, p.function_b)
            lines.append("| `%s` | `%s` | %d%% | %d%% | %s |"
                         % (ids[p.a], ids[p.b], round(100 * a_share), round(100 * b_share),
                            measured_by(p)))
    lines += ["", "Identical or near-identical %s weights: %d" % (MODEL_FILE, len(model_pairs))]
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
<table><tr><th>Submission A</th><th>Submission B</th><th>Similarity</th><th>Measured by</th>
<th>Functions: A in B / B in A</th><th>Whole files: A in B / B in A</th>
<th>Matching functions (A's / B's share)</th><th>Flagged</th></tr>
{rows}
</table>
<h2>{model_file}</h2>
{models}
{problems}
<h2>Flagged pairs side by side</h2>
{details}
</body></html>
"""


def marked_source(source, lines):
    """The function's source, escaped, its `lines` (1-based) in <mark>."""
    out = []
    for number, text in enumerate(source.split("\n"), start=1):
        text = html.escape(text)
        out.append("<mark>%s</mark>" % text if number in lines and text.strip() else text)
    return "\n".join(out)


def functions_side_by_side(ids, extracts, pair, matches, k, common):
    """Each matching function of the pair: A's and B's source, the shared lines marked."""
    e = html.escape
    a, b = extracts[pair.a], extracts[pair.b]
    by_name = [{f.name: f for f in x.functions} for x in (a, b)]
    blocks = []
    for match in matches[:MAX_FUNCTIONS_SHOWN]:
        fa, fb = by_name[0][match.name], by_name[1][match.name]
        sides = []
        for index, mine, other in ((pair.a, fa, fb), (pair.b, fb, fa)):
            sides.append('<div class="side"><h5>%s</h5><pre>%s</pre></div>'
                         % (e(ids[index]), marked_source(mine.source,
                                                         matched_lines(mine, other, k, common))))
        blocks.append('<div class="function" data-function="%s"><h4>%s: %d%% of A\'s, %d%% of '
                      'B\'s</h4><div class="sides">%s</div></div>'
                      % (e(match.name), e(match.name), round(100 * match.share_a),
                         round(100 * match.share_b), "".join(sides)))
    return "".join(blocks)


def files_side_by_side(ids, extracts, pair, policy, common):
    """Excerpts of the two whole files around their shared code (copydetect)."""
    from copydetect.utils import highlight_overlap
    slices = pair_slices(extracts, pair, policy.noise_tokens, common)
    sides = []
    for index, side in zip((pair.a, pair.b), slices):
        code, _ = highlight_overlap(extracts[index].code, side, "<mark>", "</mark>",
                                    truncate=EXCERPT_LINES, escape_html=True)
        sides.append('<div class="side"><h4>%s</h4><pre>%s</pre></div>'
                     % (html.escape(ids[index]), code))
    return '<div class="sides">%s</div>' % "".join(sides)


def similarity_html(ids, extracts, comparison, model_pairs, problems, policy):
    e = html.escape
    pairs = comparison.pairs
    shown = _ordered(pairs, policy)
    common = comparison.common_function_hashes
    rows = []
    for row, pair in enumerate(shown[:MAX_TABLE_ROWS]):
        why = describe(matching(extracts, pair, common)) \
            if row < MAX_DETAILED and pair.function_shared else ""
        rows.append('<tr class="%s"><td><a href="#pair-%d-%d">%s</a></td><td>%s</td>'
                    '<td>%d%%</td><td>%s</td><td>%d%% / %d%%</td><td>%d%% / %d%%</td>'
                    '<td>%s</td><td>%s</td></tr>'
                    % ("flagged" if pair.flagged else "", pair.a, pair.b, e(ids[pair.a]),
                       e(ids[pair.b]), round(100 * pair.similarity), e(measured_by(pair)),
                       round(100 * pair.function_a), round(100 * pair.function_b),
                       round(100 * pair.similarity_a), round(100 * pair.similarity_b),
                       e(why), "yes" if pair.flagged else ""))
    if len(shown) > MAX_TABLE_ROWS:
        rows.append('<tr><td colspan="8">... %d more pairs in similarity.csv</td></tr>'
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
        if pair.by_tokens:
            body = "<p>Measured by %s.</p>%s" % (e(measured_by(pair)), files_side_by_side(
                ids, extracts, pair, policy, comparison.common_file_hashes))
        else:
            body = functions_side_by_side(ids, extracts, pair, matching(extracts, pair, common),
                                          policy.function_tokens, common)
        details.append('<section class="pair" id="pair-%d-%d"><h3>%s and %s: %d%% / %d%% (%s); '
                       'whole files %d%% / %d%%</h3>%s</section>'
                       % (pair.a, pair.b, e(ids[pair.a]), e(ids[pair.b]),
                          round(100 * (pair.similarity_a if pair.by_tokens else pair.function_a)),
                          round(100 * (pair.similarity_b if pair.by_tokens else pair.function_b)),
                          e(measured_by(pair)), round(100 * pair.similarity_a),
                          round(100 * pair.similarity_b), body))
    intro = ("%d submissions%s; %d pairs listed (similarity from %d%%), %d flagged (from %d%% "
             "and %d shared function k-grams, or %d shared tokens by whole files). Similarity "
             "of A in B: the share of what A wrote in the graded functions (names, comments "
             "and docstrings ignored; the release's stubs and provided cells, and passages "
             "found in more than %d%% of the class, at least %d submissions, excluded) that B "
             "has too. Whole files: the same share over all of A's code (copydetect)."
             % (len(ids) - comparison.prior,
                " and %d prior submissions" % comparison.prior if comparison.prior else "",
                len(shown), round(100 * policy.list_from), sum(p.flagged for p in pairs),
                round(100 * policy.threshold), policy.min_function_tokens,
                policy.min_shared_tokens, round(100 * policy.common_share), policy.common_min))
    return PAGE.format(model_file=e(MODEL_FILE), intro=e(intro), rows="\n".join(rows), models=models,
                       problems=problem_html, details="\n".join(details) or "<p>None.</p>")


def replace_section(summary_text, section):
    """summary.md with its similarity section replaced by (or extended with) `section`."""
    if SECTION_TITLE in summary_text:
        head, _, rest = summary_text.partition(SECTION_TITLE)
        tail = rest.split("\n## ", 1)
        rest = ("\n## " + tail[1]) if len(tail) > 1 else ""
        return head.rstrip("\n") + "\n\n" + section + rest
    return summary_text.rstrip("\n") + "\n\n" + section
