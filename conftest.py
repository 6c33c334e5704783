"""pytest at the repository root: lessons run under nbval in strict mode.

A wrong published solution must fail the tests, so helper.check raises instead of
printing its verdict (the Makefile sets the same variable for `make book`). The kernels
nbval starts inherit this environment.
"""

import os

os.environ.setdefault("RNN_COURSE_STRICT", "1")
