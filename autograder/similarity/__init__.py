"""Similarity of a class's submissions: `python -m autograder similarity GRADES_DIR`.

A class run calls it at the end too. In order:
- run: stage each submission as grading does (autograder.submission.stage), in chunks;
- extract: in a limited child, each student's nndl/*.py and notebook solution cells
  fingerprinted with copydetect (release stubs and provided cells as boilerplate), and
  cnn_model.npz read without pickles into a digest and a sample of weights;
- compare: copydetect's similarity for every pair, identical / near-identical models;
- report: GRADES_DIR/similarity.csv, similarity.html and a section of summary.md.
Thresholds are instructor policy: the spec's [similarity] table.
"""
