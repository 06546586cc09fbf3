"""Graded exercises: student versions, public self-checks and a sandboxed grader.

Introduced in the chapter "Instructor guide". Students use
``from course_utils.grading import public_tests``; instructors use the
``course-grade`` command (:mod:`course_utils.grading.cli`).
"""

from course_utils.grading import public_tests

__all__ = ["public_tests"]
