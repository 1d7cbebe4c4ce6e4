"""What a JWT looks like in text: three base64url segments, the first a JSON header (``eyJ``)."""

from __future__ import annotations

import re

_B64 = r"A-Za-z0-9_\-"
JWT = re.compile(rf"(?<![{_B64}.])eyJ[{_B64}]+\.[{_B64}]+\.[{_B64}]*(?![{_B64}.])")
WHOLE_JWT = re.compile(rf"`?\s*(eyJ[{_B64}]+\.[{_B64}]+\.[{_B64}]*)\s*`?")
# a short label ending in a colon, then the token alone: "Sample token: `eyJ...`", "示例令牌：eyJ..."
LABELLED_JWT = re.compile(rf"[^`\n]{{1,60}}?[:：][*_]*\s*{WHOLE_JWT.pattern}")
