#!/usr/bin/env python
"""Keep the English catalog complete.

    python scripts/i18n.py apply TRANSLATIONS.json   # {"中文 msgid": "English", ...}
    python scripts/i18n.py missing                    # list msgids without an English msgstr

``apply`` takes a file lock (several developers may run it at once), re-extracts every marked
string with ``makemessages``, fills in the given translations and compiles the catalog.
"""
from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
MANAGE = [sys.executable, str(ROOT / "manage.py")]


def _extract() -> None:
    subprocess.run(
        [*MANAGE, "makemessages", "-l", "en", "--no-obsolete", "--ignore=.venv/*", "--ignore=var/*", "--ignore=bench/*", "--ignore=tests/*"],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def apply(path: str) -> None:
    translations = json.loads(Path(path).read_text(encoding="utf-8"))
    PO.parent.mkdir(parents=True, exist_ok=True)
    with open(ROOT / "locale" / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _extract()
        catalog = polib.pofile(str(PO))
        for entry in catalog:
            if entry.msgid in translations:
                entry.msgstr = translations[entry.msgid]
                if "fuzzy" in entry.flags:
                    entry.flags.remove("fuzzy")
        catalog.metadata["Content-Type"] = "text/plain; charset=UTF-8"
        catalog.save(str(PO))
        catalog.save_as_mofile(str(PO.with_suffix(".mo")))
    print(f"applied {len(translations)} translations; {len(missing_entries())} msgids still untranslated")


def missing_entries() -> list[str]:
    catalog = polib.pofile(str(PO))
    return [e.msgid for e in catalog if not e.msgstr and not e.obsolete] + [e.msgid for e in catalog.fuzzy_entries()]


if __name__ == "__main__":
    if sys.argv[1:2] == ["apply"]:
        apply(sys.argv[2])
    elif sys.argv[1:2] == ["missing"]:
        for msgid in missing_entries():
            print(msgid)
    else:
        print(__doc__)
        sys.exit(2)
