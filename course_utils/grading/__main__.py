"""``python -m course_utils.grading`` is ``course-grade``."""

import sys

from course_utils.grading.cli import main

sys.exit(main())
