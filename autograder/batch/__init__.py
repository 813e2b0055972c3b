"""Grading a class: discover its submissions, resume from what is finished, grade the rest
on a backend (BACKENDS: a local process pool or a Dask cluster), then the class reports.

- discover: which paths are submissions, and their ids (GRADES_DIR/<id>/);
- state: the class's recorded seed (GRADES_DIR/batch.json), which submissions are finished,
  stale partial files from a killed run;
- backends: the table of where a class is graded: local (a process pool on this machine)
  and dask_cluster (a Dask cluster), called the same way;
- tasks: one submission's task and what a backend reports when it is done;
- throughput: the class figures of a run (the benchmark's table);
- progress: the done/total bar with an ETA;
- run: the whole class run tying these together (its reports: autograder.report).
"""
