"""The students' self-checks: one module per assignment, named after it.

Introduced in the chapter "Graded exercise: initialization". A student
notebook imports its assignment's module, e.g.
``from course_utils.self_checks import initialization``, and calls its
``check_...`` functions on the functions the student wrote. Each prints
"All tests passed." or raises an ``AssertionError`` that says what is wrong
and how to fix it; their arguments are public, so their hints may be
detailed. Adding an assignment means adding one module here (its shared
helpers are in ``_common``). Nothing here imports the grader.
"""
