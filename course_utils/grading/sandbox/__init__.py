"""The sandbox: runs untrusted submission code in a separate, limited process tree.

Documented on the page "Instructor guide". Isolation only: it knows nothing of
assignments, points or gradebooks. Its modules:

- :mod:`~course_utils.grading.sandbox.jobs`: the job slots, the isolation
  modes and the parent's side of a job (starting it, the events it may send,
  the timeouts, killing the whole tree);
- :mod:`~course_utils.grading.sandbox.init`: process 1 of a job's PID
  namespace, which builds the sandbox and starts the runner;
- :mod:`~course_utils.grading.sandbox.runner`: runs the cells and the calls
  inside the sandbox and reports each result;
- :mod:`~course_utils.grading.sandbox.users`: one unprivileged user id per
  job slot, swept after every job;
- :mod:`~course_utils.grading.sandbox.memory`: a memory cgroup per job where
  the machine has one.
"""

from course_utils.grading.sandbox.jobs import (
    JobRun,
    Limits,
    Sandbox,
    SandboxError,
    choose_isolation,
)

__all__ = ["JobRun", "Limits", "Sandbox", "SandboxError", "choose_isolation"]
