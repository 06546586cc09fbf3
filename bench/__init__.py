"""Benchmarks of course_utils (not tests) and the classic loop they compare against.

Run them all with ``make bench`` (or ``.venv/bin/python -m bench``); see
``bench/results.md`` for the recorded figures.
"""
