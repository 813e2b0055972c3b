"""Grading a whole class: `python -m autograder grade DIR_OR_FILES... --out GRADES_DIR`.

- discover: which paths are submissions, and their ids (GRADES_DIR/<id>/);
- state: the class's recorded seed (GRADES_DIR/batch.json), which submissions are finished,
  stale partial files from a killed run;
- local: a process pool on this machine; autograder.grade.dask_backend: a Dask cluster;
- gradebook: gradebook.csv and summary.md from the finished results.json files;
- progress: the done/total bar with an ETA;
- run: the whole class run tying these together.
"""
