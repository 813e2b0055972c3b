"""The traceback a student sees holds frames of their own nndl/*.py files only: never the
grader's (autograder/), a library's (site-packages) or the folder their files sit in; with no
such frame, the feedback says in words where the error came from."""
import re

from autograder.checks.observation import describe_error, student_lines

from tests.autograder.checks import support

CONV_FORWARD = "conv_layers.conv_forward_naive.forward"
PAD_LINE = ("xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant')\n"
            "    out = np.zeros(")
FRAME = re.compile(r'File "([^"]*)"')


def feedback_of(tmp_path, edits=None, append=""):
    folder = support.variant(tmp_path, edits or {})
    if append:
        path = folder / "conv_layers.py"
        path.write_text(path.read_text() + "\n\n" + append)
    return support.grade(folder, [support.spec().item(CONV_FORWARD)])[CONV_FORWARD].output


def assert_only_student_frames(output):
    frames = FRAME.findall(output)
    assert frames, output
    assert all(re.fullmatch(r"nndl/\w+\.py", path) for path in frames), frames
    for kit_path in ("autograder/", "site-packages", "/kinds/", str(support.REPO)):
        assert kit_path not in output, output


def test_a_crash_in_the_students_loop_shows_its_line_and_no_grader_frame(tmp_path):
    output = feedback_of(tmp_path, {"conv_layers.py": [(PAD_LINE, "xpad = x\n    out = np.zeros(")]})
    assert 'File "nndl/conv_layers.py", line 60, in conv_forward_naive' in output
    assert_only_student_frames(output)


def test_a_crash_inside_numpy_keeps_the_students_call_only(tmp_path):
    output = feedback_of(tmp_path, {"conv_layers.py": [(
        PAD_LINE, "xpad = np.pad(x, 0.5)\n    out = np.zeros(")]})
    assert "`pad_width` must be of integral type" in output
    assert 'File "nndl/conv_layers.py", line 53, in conv_forward_naive' in output
    assert "    xpad = np.pad(x, 0.5)" in output
    assert_only_student_frames(output)


def test_without_a_student_frame_the_feedback_says_where_in_words(tmp_path):
    # a later definition with another signature wins: the grader's call itself fails
    output = feedback_of(tmp_path, append="def conv_forward_naive(x, w, conv_param):\n"
                                          "    return x, None\n")
    assert "conv_forward_naive() takes 3 positional arguments but 4 were given" in output
    assert ("No line of your nndl/ files is in the traceback: it was raised in the grader's own "
            "code when the grader called conv_forward_naive") in output
    assert not FRAME.findall(output)
    for kit_path in ("autograder/", "site-packages", str(support.REPO)):
        assert kit_path not in output, output


def test_foreign_frames_of_a_traceback_text_are_dropped_with_their_code():
    trace = ('  File "/kit/autograder/checks/kinds/forward_value.py", line 60, in observe\n'
             '    result = rec.call_watched(name, run, watched)\n'
             '  File "nndl/conv_layers.py", line 60, in conv_forward_naive\n'
             '    out[n, f, i, j] = np.sum(window * w[f]) + b[f]\n'
             '  File "/usr/lib/python3/site-packages/numpy/lib/_arraypad_impl.py", line 9, in pad\n'
             '    raise TypeError("no")')
    assert student_lines(trace) == ['  File "nndl/conv_layers.py", line 60, in conv_forward_naive',
                                    '    out[n, f, i, j] = np.sum(window * w[f]) + b[f]']
    text = describe_error({"type": "ValueError", "message": "m", "where": "f", "traceback": trace})
    assert "autograder/" not in text and "site-packages" not in text
    assert "nndl/conv_layers.py" in text


def test_the_sandbox_workers_own_traceback_format_is_kept():
    trace = "nndl/conv_layers.py, line 3, in conv_forward_naive: raise ValueError('x')"
    assert student_lines(trace) == [trace]
