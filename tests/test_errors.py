"""One error, one line: the helpers every message that reports an error is built with."""

import pytest
from sqlalchemy import create_engine, pool, text
from sqlalchemy.exc import ProgrammingError

from thirdai_platform.errors import first_line, message_line, one_line


def test_the_first_line_is_stripped_and_empty_text_has_none():
    assert first_line("\n  boom\nsecond line") == "boom"
    assert first_line("  \n") == ""


def test_a_database_error_is_said_in_the_drivers_own_first_line(database_url):
    engine = create_engine(database_url, poolclass=pool.NullPool)
    with engine.connect() as connection, pytest.raises(ProgrammingError) as raised:
        connection.execute(text("SELECT * FROM no_such_table"))
    engine.dispose()

    assert message_line(raised.value) == 'relation "no_such_table" does not exist'
    assert one_line(raised.value) == 'UndefinedTable: relation "no_such_table" does not exist'


def test_an_error_without_a_message_is_named_by_its_type():
    assert message_line(KeyboardInterrupt()) == "KeyboardInterrupt"
    assert one_line(ValueError("")) == "ValueError"


def test_a_syntax_errors_place_is_left_to_be_said_apart():
    with pytest.raises(SyntaxError) as raised:
        compile("def (:", "versions/0042_x.py", "exec")
    assert one_line(raised.value) == "SyntaxError: invalid syntax"
