"""Where to attribute a finding that belongs to the app as a whole (FAA301, FAA303 debug, FAA401)."""

from __future__ import annotations

import linecache
import re
import sys
from functools import lru_cache

from runtime_guard.frames import FrameInfo, is_user_file


def app_location(app: object) -> FrameInfo | None:
    """The ``name = FastAPI(...)`` line of the module that holds ``app``, when a user module holds it.

    Python does not record where an object was created; the module-level
    variable that refers to the app, found in ``sys.modules``, is the next
    best thing and matches where the static rules report app-level codes.
    """
    for module in list(sys.modules.values()):
        filename = getattr(module, "__file__", None)
        if not filename or not is_user_file(filename):
            continue
        try:
            items = list(vars(module).items())
        except TypeError:
            continue
        for name, value in items:
            if value is app:
                return FrameInfo(filename, _assignment_line(filename, name), "<module>")
    return None


@lru_cache(maxsize=256)
def _assignment_line(filename: str, name: str) -> int:
    pattern = re.compile(rf"^\s*{re.escape(name)}\s*(:[^=]+)?=(?!=)")
    for number, line in enumerate(linecache.getlines(filename), 1):
        if pattern.match(line):
            return number
    return 1
