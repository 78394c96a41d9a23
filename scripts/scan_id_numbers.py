#!/usr/bin/env python3
"""Fail if the text on stdin contains a valid resident ID number (GB 11643 checksum).

For the "no plaintext ID numbers at rest" check: ``pg_dump ... | scripts/scan_id_numbers.py``,
and for log files: ``scripts/scan_id_numbers.py < var/stack/web.log``. Prints only masked numbers.
"""
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from applications.id_numbers import is_valid_id_number, mask_id_number  # noqa: E402

CANDIDATE = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx])(?![0-9A-Za-z])")


def main() -> int:
    found = 0
    for line_number, line in enumerate(sys.stdin, start=1):
        for match in CANDIDATE.finditer(line):
            if is_valid_id_number(match.group(1)):
                found += 1
                print(f"line {line_number}: {mask_id_number(match.group(1))}")
    print(f"{found} valid ID number(s) found", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
