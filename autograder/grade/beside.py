"""A call run beside the grader's own work: on a thread of its own, always waited for.

The accuracy item's trusted evaluation (the reference worker predicting with the submitted
weights) and the student's evaluation of the validation images run in two different
processes; started together, a submission waits for the longer of the two instead of
their sum. A session serves one request at a time, so the call is waited for before its
`with` block ends, whatever the block raised.

    with Beside(trusted_evaluation, ctx, item, model_bytes, splits) as pending:
        ... the student's side ...
        trusted = pending.result()
"""
import threading


class Beside:
    """function(*args) on a daemon thread; result() waits and returns it or raises its error."""

    def __init__(self, function, *args):
        self._value = None
        self._error = None
        self._thread = threading.Thread(target=self._run, args=(function, args), daemon=True,
                                        name="beside-%s" % getattr(function, "__name__", "call"))
        self._thread.start()

    def _run(self, function, args):
        try:
            self._value = function(*args)
        except BaseException as error:   # re-raised in the caller's thread by result()
            self._error = error

    def result(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._thread.join()
