"""The guide's code appears in the example project as written.

Every Python block of DJANGO_INTEGRATION.md except the "Before" ones (the code being replaced) is
cut into top-level paragraphs; each must appear in one of the example's files with the same lines
and the same relative indentation (a function may sit inside a class), blank lines aside. Import
lines are the project's own (the guide's ``myapp`` is ``core`` here), so paragraphs made only of
imports and comments are not compared. The guide file is mis-encoded in places (``Âµs`` for ``µs``,
``ðŸ›‘`` for 🛑); the comparison decodes those back. The few paragraphs the example deliberately
does not use are listed in ``NOT_USED`` with the reason; README.md repeats them for users.
"""
import re

import pytest
from example_support import EXAMPLE, GUIDE

pytestmark = pytest.mark.skipif(not GUIDE.is_file(), reason=f"the guide is not at {GUIDE}")

NOT_USED = {
    "# Call once at startup\nload_leaderboard_from_db()":
        "update_user adds points: this module-level load plus wsgi.py's restore_leaderboard() "
        "(which loads from the database when there is no backup) would count every user twice. "
        "The example loads once, through restore_leaderboard() in wsgi.py.",
    "# backend/settings.py\nINSTALLED_APPS = [":
        "the project's own app list; test_installed_apps checks the two entries in settings",
}

IMPORT = re.compile(r"^(import\s|from\s\S+\simport\s)")


def fix_mojibake(line: str) -> str:
    try:
        return line.encode("cp1252").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return line


def guide_blocks():
    """(heading, code) of every ```python block that is not a "Before" example."""
    blocks, lines = [], GUIDE.read_text(encoding="utf-8").splitlines()
    heading, last_text, i = "", "", 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            heading = line.lstrip("# ")
        if line.strip().startswith("```python"):
            indent = len(line) - len(line.lstrip())
            body = []
            i += 1
            while not lines[i].strip().startswith("```"):
                body.append(lines[i][indent:])
                i += 1
            if not last_text.startswith("**Before"):
                blocks.append((heading, [fix_mojibake(b) for b in body]))
        elif line.strip():
            last_text = line.strip()
        i += 1
    return blocks


def paragraphs(code_lines):
    """Top-level paragraphs: a blank line followed by an unindented line starts a new one."""
    out, current, blank = [], [], False
    for line in code_lines:
        if not line.strip():
            blank = True
            continue
        if blank and current and not line[0].isspace():
            out.append(current)
            current = []
        blank = False
        current.append(line.rstrip())
    if current:
        out.append(current)
    return out


def shape(lines):
    """Lines as (relative indent, stripped text), blank lines dropped."""
    lines = [l.rstrip() for l in lines if l.strip()]
    base = min(len(l) - len(l.lstrip()) for l in lines)
    return [(len(l) - len(l.lstrip()) - base, l.strip()) for l in lines]


def contains(file_lines, para):
    want = shape(para)
    have = [(len(l) - len(l.lstrip()), l.strip()) for l in file_lines if l.strip()]
    for start in range(len(have) - len(want) + 1):
        base = have[start][0] - want[0][0]
        if all(have[start + k] == (want[k][0] + base, want[k][1]) for k in range(len(want))):
            return True
    return False


def example_sources():
    return {p: p.read_text(encoding="utf-8").splitlines() for p in sorted(EXAMPLE.rglob("*.py"))
            if "migrations" not in p.parts}


def is_imports_only(para):
    code = [l.strip() for l in para if l.strip() and not l.strip().startswith("#")]
    return all(IMPORT.match(l) for l in code)


def guide_paragraphs():
    for heading, code in guide_blocks():
        for para in paragraphs(code):
            if not is_imports_only(para):
                yield pytest.param(para, id=f"{heading[:30]}: {next(l for l in para if not l.startswith('#'))[:40]}")


def test_the_guide_has_the_expected_blocks():
    found = list(guide_paragraphs())
    assert len(found) >= 20, "the guide changed shape: review NOT_USED and this test"


@pytest.mark.parametrize("para", list(guide_paragraphs()) if GUIDE.is_file() else [])
def test_guide_paragraph_is_in_the_example(para):
    key = "\n".join(para[:2])
    if any(key.startswith(not_used) for not_used in NOT_USED):
        return  # documented above (and in README.md); checked by the tests below
    where = [path for path, lines in example_sources().items() if contains(lines, para)]
    assert where, "not found in the example project:\n" + "\n".join(para)


def test_no_module_level_load_from_db():
    """The one guide line left out really is out: no unindented call at import time."""
    for path, lines in example_sources().items():
        assert "load_leaderboard_from_db()" not in lines, path


def test_installed_apps():
    from django.conf import settings

    assert "cpp_event_processor" in settings.INSTALLED_APPS
    assert "cpp_leaderboard" in settings.INSTALLED_APPS
