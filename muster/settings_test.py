"""Settings for the test suite: a throw-away MUSTER_HOME, fast password hashing."""

import os
import tempfile

os.environ.setdefault("MUSTER_HOME", tempfile.mkdtemp(prefix="muster-test-"))
os.environ["MUSTER_TESTING"] = "1"

from muster.settings import *  # noqa: F403
