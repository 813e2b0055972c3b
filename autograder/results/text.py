"""Text that reaches the reports from a submission: capped, made printable, escaped.

Item outputs carry what student code raised or printed (through the sandbox), problems
and notes carry file names and parser messages, the submission's name is whatever the
file system holds (any bytes). Before any report is written:
- every piece is capped with a visible "... (cut: N characters)" marker: a message
  (problem, note, name) at MESSAGE_CHARS, an item's output at ITEM_OUTPUT_CHARS, all
  item outputs together at REPORT_OUTPUT_CHARS, and at most MAX_LISTED problems or notes;
- undecodable bytes and control characters become visible escapes (\\xff, \\x1b), so
  every report is valid UTF-8 and no terminal or page is driven by them;
- the formats escape the rest: markdown_inline / markdown_block for feedback.md,
  html.escape for feedback.html, JSON for results.json.
"""
import dataclasses
import re

MESSAGE_CHARS = 4 * 1024
ITEM_OUTPUT_CHARS = 64 * 1024
REPORT_OUTPUT_CHARS = 512 * 1024
GRADER_ERROR_CHARS = 16 * 1024
NAME_CHARS = 200
MAX_LISTED = 50
MARKER_SLACK = 64

# C0/C1 controls except tab and newline, and lone surrogates (os.fsdecode's undecodable bytes).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_UNPRINTABLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# What makes inline markdown live: emphasis, code, links, images, raw HTML, entities, tables.
_MARKDOWN_ACTIVE = re.compile(r"([\\`*_\[\]<>!|~&#])")


def cut(text, limit):
    """text, or its first `limit` characters and a marker saying how many were cut."""
    if len(text) <= limit + MARKER_SLACK:  # the slack: a text cut once is not cut again
        return text
    return "%s\n... (cut: %d characters)" % (text[:limit], len(text) - limit)


def _escape(match):
    char = match.group(0)
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:      # a byte that was not UTF-8 (surrogateescape)
        return "\\x%02x" % (code - 0xDC00)
    if code < 0x100:
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char, "\\x%02x" % code)
    return "\\u%04x" % code


def printable(text, one_line=False):
    """text with control characters (newlines too when one_line) and stray surrogates escaped."""
    pattern = _UNPRINTABLE_LINE if one_line else _UNPRINTABLE
    return pattern.sub(_escape, str(text))


def message(text, limit=MESSAGE_CHARS):
    """One problem, note or output: capped (before escaping: a huge one costs nothing more) and
    printable."""
    return printable(cut(str(text), limit))


def display_name(name):
    """A submission's name for the reports: one printable line."""
    name = str(name)
    if len(name) > NAME_CHARS + MARKER_SLACK:
        name = "%s... (cut: %d characters)" % (name[:NAME_CHARS], len(name) - NAME_CHARS)
    return printable(name, one_line=True)


def listed(messages, what):
    """At most MAX_LISTED capped messages, then one line saying how many more there were."""
    messages = list(messages)
    shown = [message(m) for m in messages[:MAX_LISTED]]
    if len(messages) > MAX_LISTED:
        shown.append("... and %d more %s (cut)" % (len(messages) - MAX_LISTED, what))
    return shown


def bounded(result):
    """A copy of a GradeResult whose every text is capped and printable."""
    items = [dataclasses.replace(item, output=message(item.output, ITEM_OUTPUT_CHARS))
             for item in result.items]
    total = sum(len(item.output) for item in items)
    if total > REPORT_OUTPUT_CHARS and items:
        share = REPORT_OUTPUT_CHARS // len(items)
        items = [dataclasses.replace(item, output=cut(item.output, share)) for item in items]
    return dataclasses.replace(
        result, submission=display_name(result.submission), items=items,
        problems=listed(result.problems, "problems"), notes=listed(result.notes, "notes"),
        grader_error=message(result.grader_error, GRADER_ERROR_CHARS),
        unreadable=message(result.unreadable), lms=_bounded_value(result.lms),
        late=_bounded_value(result.late), overrides=_bounded_value(result.overrides),
        batch=_bounded_value(result.batch), extra=_bounded_value(result.extra))


def _bounded_value(value):
    if isinstance(value, str):
        return message(value)
    if isinstance(value, dict):
        return {message(str(k), NAME_CHARS): _bounded_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_bounded_value(v) for v in value)
    return value


def markdown_inline(text):
    """Text shown inside a markdown line: no line breaks, nothing live."""
    return _MARKDOWN_ACTIVE.sub(r"\\\1", printable(text, one_line=True))


def markdown_block(text):
    """A fenced code block holding text literally: the fence is longer than any backtick run in it."""
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return "%s\n%s\n%s" % (fence, text, fence)
