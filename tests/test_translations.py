"""Every committed translation is complete: no empty msgstr (the header aside) and no
fuzzy entry (gettext skips fuzzy ones, so the page would silently show English)."""

import ast
import re
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parent.parent / "locale"
PO_FILES = sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))
KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*\")$")


def parse_po(text: str) -> list[dict]:
    """Entries as {"flags": set, "msgid": str, "msgstr[...]": str, ...}; obsolete
    (#~) entries are ignored, as gettext ignores them."""
    entries = []
    for block in re.split(r"\n\s*\n", text.strip()):
        entry: dict = {"flags": set()}
        key = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {f.strip() for f in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif match := KEYWORD.match(line):
                key = match.group(1)
                entry[key] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and key:
                entry[key] += ast.literal_eval(line)
        if "msgid" in entry:
            entries.append(entry)
    return entries


def test_locale_has_chinese_catalogue():
    """The Chinese catalogue exists (an empty glob would make the checks vacuous)."""
    assert LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po" in PO_FILES


@pytest.mark.parametrize("po", PO_FILES, ids=lambda p: str(p.relative_to(LOCALE)))
def test_po_has_no_empty_or_fuzzy_entries(po):
    """Each entry has every msgstr filled and no fuzzy flag."""
    problems = []
    for entry in parse_po(po.read_text(encoding="utf-8")):
        if "fuzzy" in entry["flags"]:
            problems.append(f"fuzzy: {entry['msgid']!r}")
        if entry["msgid"] == "":
            continue  # the header
        strings = [v for k, v in entry.items() if k.startswith("msgstr")]
        if not strings or any(not s for s in strings):
            problems.append(f"empty msgstr: {entry['msgid']!r}")
    assert not problems, "\n".join(problems)


def test_parser_sees_fuzzy_and_empty_entries():
    """The checker itself catches what it is for."""
    sample = (
        'msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n\n'
        '#, fuzzy, python-format\nmsgid "a %s"\nmsgstr "甲 %s"\n\n'
        'msgid "b"\nmsgid_plural "bs"\nmsgstr[0] ""\n\n'
        'msgid "c"\n"ontinued"\nmsgstr ""\n"丙"\n'
    )
    header, fuzzy, plural, wrapped = parse_po(sample)
    assert header["msgid"] == ""
    assert "fuzzy" in fuzzy["flags"]
    assert plural["msgstr[0]"] == ""
    assert (wrapped["msgid"], wrapped["msgstr"]) == ("continued", "丙")
