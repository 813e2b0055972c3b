"""Grading one submission: stage it, observe the spec's items in the reference and sandboxed
student workers, judge, and write its reports (Grader.grade in pipeline.py).

Pipeline of one submission (autograder.grade.pipeline.Grader.grade):
1. stage the submission into a private folder (autograder.submission: safe unzip,
   only the notebooks, nndl/*.py and cnn_model.npz; a shipped cs231n/ is ignored);
2. start two workers speaking the same protocol (autograder.sandbox.worker): the
   trusted reference (solutions/nndl, no sandbox) and the student's (sandboxed:
   bubblewrap namespaces, unprivileged uid, rlimits, output cap, no network, no
   solutions/, no data set, no grader files);
3. per spec item, the runner of its kind (autograder.grade.runners): draw the cases from
   the run's secret seed in the grader, observe them in both workers (arrays + JSON only,
   never pickles), judge in the grader with autograder.checks.judge_all (items.py);
   timing alternates reference and student runs (run_timing.py); accuracy rebuilds the
   student's model in the sandbox, gets predictions back, and scores them against labels
   that never leave the grader (run_accuracy.py); with --retrain (or no model file and
   the spec's missing_model = "retrain"; the default "zero" gives a missing model 0
   points) CNN.ipynb runs in a sandbox first;
4. write results.json (Gradescope), feedback.md and feedback.html atomically
   (autograder.report), results.json last.

A failing request (exception, crash, hang, huge output, memory) costs that case only:
the worker is restarted for the next one.
"""
