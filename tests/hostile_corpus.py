"""Hostile strings an adversary with CreateTags rights, or a broken CML, can put in front of us.

Shared by the tests that feed them through every text path.
"""

from __future__ import annotations

import re
import unicodedata

MARKUP = [
    "[/]",
    "[@click=app.quit]click me[/]",
    "[bold red on white]loud[/bold red on white]",
    "[link=https://evil.example]link[/link]",
    "[/@click]",
]
ESCAPES = [
    "\x1b]0;pwned title\x07",  # OSC: window title
    "\x1b]52;c;ZXZpbA==\x07",  # OSC 52: clipboard write
    "\x1b[2J\x1b[H",  # CSI: clear screen, home
    "\x1bP1$r0m\x1b\\",  # DCS
    "\x9b2J\x9d0;c1-title\x9c",  # C1 CSI and OSC
    "bell\x07back\x08space\x7f",
]
# The third round's classes: string terminators, the other string controls, 8-bit C1, NUL and a
# lone ESC at the end (which, with the next ")" written, would make `ESC )`: a charset switch).
ESCAPES_THIRD = [
    "\x1b]0;owned title\x1b\\",  # OSC 0 ended by ST
    "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "\x1bPq#0;2;0;0;0#0~~@@vv\x1b\\",  # DCS (sixel)
    "\x1b_Gf=100,a=T;AAAA\x1b\\",  # APC (kitty graphics)
    "\x1b^privacy message\x1b\\",  # PM
    "\x1bXstart of string\x1b\\",  # SOS
    "c1\x9d0;t\x9c\x90q\x9c\x9fapc\x9c\x9epm\x9c\x98sos\x9c\x9b2J",  # 8-bit C1
    "del\x7fnul\x00end",
    "\u202eevil\u202c\u2067rtl\u2069\u200f\u061c",  # bidi
    "lone escape at the end\x1b",
]
LAYOUT = [
    "abc\u202edcba\u202c",  # bidi override
    "\u2066iso\u2069late\u200f",
    "zero\u200bwidth\u200djoin\ufeff",
    "wide中文字符テスト",
    "row1\nrow2\rrow3\u2028row4",
    "tab\there",
    "lone\ud800surrogate",
    "\U000e0041tag\U000e007f",
    "n" * 5000,
]
# Names that Rich and terminals (wcwidth, as tmux counts) measure differently, unless cells are
# fitted through `cmltui.domain.sanitize.even_width`.
WIDTH_TRICKS = [
    "stack" + "\u0301" * 200 + "-marks",
    "e\u0301\u0302\u0303\u0304\u0305 five marks",
    "heart\u2764\ufe0f\u2764\ufe0f-vs16",
    "thumbs\U0001f44d\U0001f3fd\U0001f44b\U0001f3ff-tone",
    "fill\u3164\u3164\u1160\uffa0\u115fer",
    "\u3164\u3164\u3164\u3164",  # nothing visible: shows its instance id
    "family\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "flag\U0001f1fa\U0001f1f8\U0001f1ef\U0001f1f5",
    "\u0915\u094d\u0937\u093f\u0928\u093e devanagari",
    "wide中文字符テスト名前です",
]
CORPUS: list[str] = MARKUP + ESCAPES + ESCAPES_THIRD + LAYOUT

# What may reach a terminal from the app: SGR colours and cursor positioning, nothing else.
_ALLOWED_SEQUENCES = re.compile(r"\x1b\[[0-9;:]*m|\x1b\[\d+;\d+H|\x1b\[\d*[ABCDGK]")
_BIDI_AND_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def control_problems(stream: str) -> list[str]:
    """What in a terminal stream would act on the terminal instead of being shown."""
    rest = _ALLOWED_SEQUENCES.sub("", stream)
    problems = []
    for index, char in enumerate(rest):
        category = unicodedata.category(char)
        if char in "\n\r":
            continue
        if category in ("Cc", "Cs") or (category == "Cf" and char != "\u00ad"):
            problems.append(f"{char!r} at {index}: {rest[max(0, index - 20) : index + 20]!r}")
        elif category in ("Zl", "Zp"):
            problems.append(f"{char!r} at {index}")
    if _BIDI_AND_INVISIBLE.search(rest):
        problems.append("bidi or zero-width character")
    return problems
