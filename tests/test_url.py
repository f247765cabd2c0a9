"""DATABASE_URI parsing: every malformed part is one line naming where the URL came from, never a piece of the password."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from thirdai_platform.database.url import parse_url
from thirdai_platform.errors import UserError

REPO = Path(__file__).resolve().parents[1]
SECRET = "p%ss:w@rd"  # unencoded: the '@' moves "rd" into the host, the '%ss' is no escape


@pytest.mark.parametrize(
    "url, expected",
    [
        ("postgresql://u:pw@localhost:notaport/x", "has a port that is not a number"),
        ("postgresql://u:pw@localhost:99999/x", "has a port outside 1-65535"),
        (f"postgresql://u:{SECRET}@127.0.0.1:5432/x", "has an unencoded '@' in its user name or password"),
        ("postgresql://u:p%ss@127.0.0.1:5432/x", "has an unencoded '%' in its user name or password"),
        ("postgresql://u:pw@local host/x", "has a host that is not a host name or IP address"),
        ("not a url", "is not a valid database URL"),
        ("postgresql://u:pw@localhost:5432", "names no database"),
    ],
)
def test_a_malformed_part_is_one_line_without_the_password(url: str, expected: str):
    with pytest.raises(UserError) as raised:
        parse_url(url)
    message = str(raised.value)
    assert message.startswith("DATABASE_URI ") and expected in message and "\n" not in message
    password = url.split("://")[-1].rpartition("@")[0].partition(":")[2]
    for fragment in {password, "p%ss", "ss:w", "rd@127", "w@rd"} - {""}:
        assert fragment not in message, fragment


def test_the_source_is_named_and_the_advice_says_how_to_encode():
    with pytest.raises(UserError, match=r"^--url has an unencoded '@'.*'@' as %40, '%' as %25"):
        parse_url(f"postgresql://u:{SECRET}@127.0.0.1:5432/x", source="--url")


@pytest.mark.parametrize(
    "url, password, host",
    [
        ("postgresql://u:p%25ss%3Aw%40rd@127.0.0.1:5432/x", SECRET, "127.0.0.1"),
        ("postgresql://u:pa:ss/x?y@db.example:5432/x", "pa:ss/x?y", "db.example"),  # ':' '/' '?' parse as meant
        ("postgresql://u@[::1]:5432/x", None, "::1"),
        ("postgres:///x", None, None),  # the local socket
    ],
)
def test_well_formed_urls_parse_as_written(url: str, password: str | None, host: str | None):
    parsed = parse_url(url)
    assert (parsed.password, parsed.host, parsed.drivername) == (password, host, "postgresql+psycopg2")


def test_the_tasks_print_the_line_without_a_traceback():
    environ = {**os.environ, "DATABASE_URI": f"postgresql://u:{SECRET}@127.0.0.1:5432/x"}
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "--search-root", str(REPO), "db.current"],
        capture_output=True,
        text=True,
        env=environ,
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("error: DATABASE_URI has an unencoded '@'")
    assert "rd@" not in result.stderr and "ss:w" not in result.stderr
