"""Every string the code marks for translation has a committed translation: the
catalogue `makemessages` would build today (in a temporary copy of the sources, never
over locale/) holds no msgid that the committed catalogue lacks, leaves empty or marks
fuzzy (gettext skips fuzzy ones, so the page would silently show English)."""

import ast
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale"
PO_FILES = sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))
# What makemessages would not look at anyway, and what holds no marked strings.
NOT_SOURCES = shutil.ignore_patterns(
    ".*", "__pycache__", "var", "node_modules", "tests", "*.mo", "*.pyc"
)
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


def _entries(po: Path) -> list[dict]:
    return parse_po(po.read_text(encoding="utf-8")) if po.exists() else []


def _key(entry: dict) -> tuple:
    return (entry.get("msgctxt"), entry["msgid"], entry.get("msgid_plural"))


def untranslated(extracted: list[dict], committed: list[dict]) -> list[str]:
    """The extracted msgids that the committed catalogue lacks, leaves empty or marks
    fuzzy."""
    known = {_key(e): e for e in committed}
    problems = []
    for entry in extracted:
        if entry["msgid"] == "":
            continue  # the header
        have = known.get(_key(entry))
        strings = [v for k, v in (have or {}).items() if k.startswith("msgstr")]
        if have is None:
            problems.append(f"not in the committed catalogue: {entry['msgid']!r}")
        elif "fuzzy" in have["flags"]:
            problems.append(f"fuzzy: {entry['msgid']!r}")
        elif not strings or any(not s for s in strings):
            problems.append(f"empty msgstr: {entry['msgid']!r}")
    return problems


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


@pytest.mark.skipif(not shutil.which("xgettext"), reason="needs GNU gettext")
@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_marked_string_has_a_committed_translation(domain, tmp_path, monkeypatch):
    """makemessages, run on a copy of the sources into a copy of locale/, finds no
    string the committed zh_Hans catalogue does not translate."""
    copy = tmp_path / "src"
    shutil.copytree(ROOT, copy, ignore=NOT_SOURCES)
    monkeypatch.chdir(copy)  # makemessages scans and writes under the current folder
    with override_settings(LOCALE_PATHS=[copy / "locale"]):
        call_command("makemessages", locale=["zh_Hans"], domain=domain, verbosity=0)
    built = copy / "locale" / "zh_Hans" / "LC_MESSAGES" / f"{domain}.po"
    committed = LOCALE / "zh_Hans" / "LC_MESSAGES" / f"{domain}.po"
    if domain == "django":
        assert built.exists()  # an empty extraction would make the check vacuous
    problems = untranslated(_entries(built), _entries(committed))
    assert not problems, "\n".join(problems)


def test_comparison_sees_missing_empty_and_fuzzy_translations():
    """The comparison itself catches what it is for."""
    committed = parse_po(
        'msgid "Buy"\nmsgstr "买入"\n\n#, fuzzy\nmsgid "Sell"\nmsgstr "卖出"\n\n'
        'msgid "Cancel"\nmsgstr ""\n'
    )
    extracted = parse_po(
        'msgid ""\nmsgstr ""\n\nmsgid "Buy"\nmsgstr "买入"\n\n'
        'msgid "Sell"\nmsgstr ""\n\nmsgid "Cancel"\nmsgstr ""\n\n'
        'msgid "Amend"\nmsgstr ""\n'
    )
    assert untranslated(extracted, committed) == [
        "fuzzy: 'Sell'",
        "empty msgstr: 'Cancel'",
        "not in the committed catalogue: 'Amend'",
    ]


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
