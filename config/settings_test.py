"""The test suite's settings: the product's, in DEBUG unless the environment says otherwise.

DEBUG is off by default now. The suite renders templates without `collectstatic` (the manifest
storage of production would refuse `{% static %}`) and talks plain HTTP (no SSL redirect). An
empty DEBUG counts as unset. Tests that need production start it in a subprocess with
DEBUG=false and config.settings (tests/ops/). Processes the tests start inherit DEBUG=true.
"""

import os

if not os.environ.get("DEBUG"):
    os.environ["DEBUG"] = "true"

from config.settings import *  # noqa: E402, F403
