"""The instructor's side of the graded exercises: release, collect, grade, report.

Documented on the page "Instructor guide"; instructors use the
``course-grade`` command (:mod:`course_utils.grading.cli`). Its parts:

- :mod:`~course_utils.grading.assignment`: the assignment format (nbgrader's
  markers), the student versions and the leak check;
- :mod:`~course_utils.grading.boundary`: the one validated boundary for
  everything that comes out of a submission or a sandbox;
- :mod:`~course_utils.grading.grader` (with :mod:`~course_utils.grading.values`
  for comparing results): grades each submission in the sandbox;
- :mod:`~course_utils.grading.sandbox`: the isolation, and nothing else;
- :mod:`~course_utils.grading.platforms`: Canvas, Moodle and plain folders;
- :mod:`~course_utils.grading.gradebook`, :mod:`~course_utils.grading.written`
  and :mod:`~course_utils.grading.pages`: the SQLite gradebook, the written
  answers, and the feedback pages and class report.

Students never import from here: their self-checks are in
:mod:`course_utils.self_checks`.
"""
