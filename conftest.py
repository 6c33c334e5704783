"""pytest at the repository root: lessons run under nbval in strict mode.

A wrong published solution must fail the tests, so helper.check raises instead of
printing its verdict (the Makefile sets the same variable for `make book`). The kernels
nbval starts inherit this environment.

A kernel that dies before it answers its first message is started again, up to twice:
with two pytest workers starting kernels at once, a kernel now and then loses the race
for a free TCP port and exits at once ("Kernel died before replying to kernel_info";
a clean-clone CI run met it once in lesson 2, and a rerun passed). A kernel that never
starts still fails; an error once a kernel runs is never retried.
"""

import os

os.environ.setdefault("RNN_COURSE_STRICT", "1")

KERNEL_START_TRIES = 3


def _retry_a_kernel_that_dies_at_start():
    try:
        from nbval import kernel
    except ImportError:  # nbval not installed: nothing starts kernels here
        return
    start = kernel.start_new_kernel
    if getattr(start, "retries_a_dead_start", False):
        return

    def start_new_kernel(*args, **kwargs):
        for attempt in range(1, KERNEL_START_TRIES + 1):
            try:
                return start(*args, **kwargs)
            except RuntimeError as exc:
                if "Kernel died before replying" not in str(exc) or attempt == KERNEL_START_TRIES:
                    raise

    start_new_kernel.retries_a_dead_start = True
    kernel.start_new_kernel = start_new_kernel


_retry_a_kernel_that_dies_at_start()
