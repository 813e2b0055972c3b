"""Similarity of a class's submissions: `python -m autograder similarity GRADES_DIR`.

A class run calls it at the end too. In order:
- run: stage each submission (and each entry of the prior work, `--against DIR`) as grading
  does (autograder.submission.stage), in chunks;
- extract: in a limited child, each student's nndl/*.py and notebook solution cells
  fingerprinted with copydetect (release stubs and provided cells as boilerplate), the
  graded functions parsed and fingerprinted one by one (functions.py), and cnn_model.npz
  read without pickles into a digest and a sample of weights;
- compare: passages shared by many set aside as boilerplate, then for every pair the share
  of each one's graded functions found in the other's (the primary measure), copydetect's
  whole-file similarity (secondary, and the measure when a module does not parse), and
  identical / near-identical models;
- report: GRADES_DIR/similarity.csv, similarity.html and a section of summary.md.
Thresholds are instructor policy: the spec's [similarity] table.
"""
