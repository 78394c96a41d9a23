"""scripts/scan_id_numbers.py: the dump/log scanner used to prove no plaintext ID numbers."""
import subprocess

from tests.ops.conftest import PYTHON, ROOT


def _scan(text: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, str(ROOT / "scripts/scan_id_numbers.py")], input=text, capture_output=True, text=True, timeout=30
    )


def test_finds_valid_numbers_and_prints_them_masked():
    result = _scan("COPY person (id, id_number) FROM stdin;\n1\t11010519491231002X\n")
    assert result.returncode == 1
    assert "110105********002X" in result.stdout and "11010519491231002X" not in result.stdout


def test_ignores_ciphertext_and_numbers_with_a_wrong_check_character():
    result = _scan("1\tenc1:gAAAAABrAo5F1nVoO8t3Whtf3j59\n2\t110105194912310021\n")
    assert result.returncode == 0, result.stdout
