"""Which characters typed text may hold: one rule for the edge (portal.input) and the imports.

PostgreSQL cannot store a NUL, and no field of the portal means a control character; a typed
text may still have tabs and line breaks (a textarea sends CR LF, a pasted cell a tab).
"""

from __future__ import annotations

import re

# No control character at all (C0 and DEL): addresses, cookies, file names.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# What typed text may not hold: the same, but for tab, line feed and carriage return.
TYPED_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
