"""A student's Python source as the interpreter sees it, reduced to the code that runs.

decode_python: bytes -> text exactly as Python decodes a module (a BOM, a PEP 263 coding
line on the first two lines, UTF-8 otherwise; universal newlines), so a copy re-encoded
in utf-7, latin-1 or cp1252 gives its original's text; bytes Python could not decode are
refused (UndecodableSource), never compared as garbage.

code_only: the text without what does not run (comments, blank lines, string statements
such as docstrings), long string literals shortened to a fixed placeholder, and the
weight of what is left in code tokens. Padding then costs nothing to fingerprint, so no
part of the code needs to be cut; a submission whose code weighs more than its budget is
refused as a whole (OverBudget) instead of being compared in part.

Both run in the limited child of extract.py, on untrusted text: tokenize only reads it.
"""
import io
import re
import tokenize

LONG_STRING = 200     # characters: a longer plain string literal becomes PLACEHOLDER
PLACEHOLDER = '"<long string>"'
TOKEN_CHARS = 100     # a kept token weighs one per started TOKEN_CHARS characters
# tokens that are layout, not code: kept as text when needed, never weighed
_LAYOUT = {tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT,
           tokenize.ENDMARKER, tokenize.COMMENT}
_ROUGH_TOKEN = re.compile(r"\w+|[^\w\s]")


class UndecodableSource(ValueError):
    """Bytes the interpreter would refuse to decode (unknown codec, invalid bytes)."""


class OverBudget(ValueError):
    """The code weighs more code tokens than the budget allows."""


def decode_python(data):
    """The text Python reads from a module's bytes; UndecodableSource when it could not."""
    try:
        # detect_encoding applies the interpreter's own rules: BOM, then a coding
        # declaration on line 1 or 2 (line 2 only after a blank or comment line 1)
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeError) as error:
        # SyntaxError: unknown codec or BOM against the cookie; LookupError: not a text
        # codec (rot13); UnicodeError: bytes invalid in the declared encoding
        raise UndecodableSource(str(error.args[0] if error.args else error)) from None
    # the interpreter reads with universal newlines: a CRLF copy is the same program
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _token_weight(string):
    return 1 + len(string) // TOKEN_CHARS


def _is_plain_long_string(token):
    """A string literal over LONG_STRING characters without an f prefix (an f-string's
    braces hold code that runs, so it is kept whole)."""
    prefix = token.string[:len(token.string) - len(token.string.lstrip("rRbBuUfF"))]
    return len(token.string) > LONG_STRING and "f" not in prefix.lower()


def _only_strings(line_tokens):
    """True when a logical line is one expression of string literals (a docstring or a
    bare string): evaluating it has no effect."""
    significant = [t for t in line_tokens if t.type not in _LAYOUT]
    return bool(significant) and all(t.type == tokenize.STRING for t in significant)


class _Reducer:
    """Rebuilds the text from its tokens, leaving out what does not run."""

    def __init__(self, text, budget):
        self.text, self.budget = text, budget
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.pieces, self.weight, self.done = [], 0, 0   # done: text consumed up to here

    def offset(self, position):
        row, column = position
        if row - 1 >= len(self.line_starts):
            return len(self.text)
        return min(len(self.text), self.line_starts[row - 1] + column)

    def _add_weight(self, weight):
        self.weight += weight
        if self.budget is not None and self.weight > self.budget:
            raise OverBudget("more than %d code tokens" % self.budget)

    def _at_line_start(self):
        return not self.pieces or self.pieces[-1].endswith("\n")

    def emit_line(self, line_tokens, complete=True):
        """One logical line: dropped whole when a complete one holds only strings, else
        its code tokens."""
        if complete and _only_strings(line_tokens):
            if line_tokens:
                self.done = self.offset(line_tokens[-1].end)
            return
        for token in line_tokens:
            start, end = self.offset(token.start), self.offset(token.end)
            if token.type == tokenize.COMMENT:
                pass
            elif token.type in (tokenize.NL, tokenize.NEWLINE):
                if not self._at_line_start():   # a blank or comment-only line leaves nothing
                    self.pieces.append("\n")
            else:
                string = PLACEHOLDER if token.type == tokenize.STRING and \
                    _is_plain_long_string(token) else token.string
                # the gap before a token is its indentation or spaces (or a backslash line
                # continuation): kept so the text stays readable in the report
                piece = self.text[self.done:start] + string
                if piece:
                    self.pieces.append(piece)
                if token.type not in _LAYOUT and string.strip():
                    self._add_weight(_token_weight(string))
            self.done = max(self.done, end)

    def emit_rest(self):
        """What tokenize could not read (a syntax error): kept as it is, weighed roughly."""
        rest = self.text[self.done:]
        self._add_weight(sum(1 for _ in _ROUGH_TOKEN.finditer(rest)))
        if rest:
            self.pieces.append(rest)
        self.done = len(self.text)


def code_only(text, budget=None):
    """(code, weight): `text` without comments, blank lines and string statements, long
    plain string literals as PLACEHOLDER; weight in code tokens (a kept token weighs one
    per started TOKEN_CHARS characters). OverBudget as soon as the weight passes `budget`."""
    reducer = _Reducer(text, budget)
    line = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            line.append(token)
            if token.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                reducer.emit_line(line)
                line = []
    except (tokenize.TokenError, SyntaxError):   # IndentationError is a SyntaxError
        reducer.emit_line(line, complete=False)
        reducer.emit_rest()
    else:
        reducer.emit_line(line)
    return "".join(reducer.pieces), reducer.weight
