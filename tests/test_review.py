"""Static review of revision scripts: each rule fires on its example under review_cases/ and stays quiet on the fix."""

from pathlib import Path

import pytest

from thirdai_platform.errors import UserError
from thirdai_platform.migrate.data_loss import declared_entries
from thirdai_platform.migrate.review import RULES, review_script, risky_operations

CASES = Path(__file__).parent / "review_cases"


def rules_of(case: str) -> list[str]:
    return [finding.rule for finding in review_script(CASES / f"{case}.py")]


@pytest.mark.parametrize(
    "case, rule",
    [
        ("drop_constraint_none", "drop-constraint-none"),
        ("empty_downgrade", "empty-downgrade"),
        ("downgrade_not_implemented", "empty-downgrade"),
        ("maintenance_beside_change", "empty-downgrade"),
        ("execute_without_reverse", "execute-without-reverse"),
        ("drop_without_data_move", "drop-without-data-move"),
        ("drop_add_rename", "drop-add-looks-like-rename"),
        ("enum_created_twice", "enum-created-twice"),
        ("percent_in_raw_sql", "percent-in-raw-sql"),
    ],
)
def test_rule_fires_on_its_example_and_nothing_else(case, rule):
    assert set(rules_of(case)) == {rule}


@pytest.mark.parametrize(
    "case",
    [
        "drop_constraint_named",
        "downgrade_reverses",
        "execute_with_reverse",
        "drop_declared_loss",
        "drop_after_copy",
        "alter_column_rename",
        "enum_created_once",
        "percent_escaped",
        "drop_what_upgrade_created",
        "nothing_to_undo",
        "placeholder_revision",
    ],
)
def test_clean_variant_has_no_findings(case):
    assert rules_of(case) == []


def test_findings_carry_revision_path_line_and_severity():
    [finding] = review_script(CASES / "drop_constraint_none.py")
    assert finding.revision == "r_dcn"
    assert finding.path.endswith("drop_constraint_none.py")
    assert finding.line == 9
    assert finding.severity == "error"


def test_drop_inside_batch_alter_table_is_attributed_to_its_table():
    messages = [finding.message for finding in review_script(CASES / "drop_without_data_move.py")]
    assert any("orders.note" in message for message in messages)
    assert any("users.nickname" in message for message in messages)


def test_rename_message_names_both_columns():
    [first, _] = review_script(CASES / "drop_add_rename.py")
    assert "rename of users.fullname to users.display_name" in first.message
    assert "op.alter_column(new_column_name=)" in first.message


def test_ignore_with_a_reason_silences_the_rule():
    assert rules_of("ignore_with_reason") == []


def test_ignore_without_a_reason_is_a_finding_and_silences_nothing():
    assert sorted(rules_of("ignore_without_reason")) == ["empty-downgrade", "invalid-ignore"]


def test_ignore_of_an_unknown_rule_is_a_finding(tmp_path):
    script = tmp_path / "typo.py"
    text = (CASES / "ignore_with_reason.py").read_text().replace("ignore empty-downgrade", "ignore empty-downgrad")
    script.write_text(text)
    assert sorted(finding.rule for finding in review_script(script)) == ["empty-downgrade", "invalid-ignore"]


def test_every_rule_has_a_known_severity():
    assert set(RULES.values()) == {"error", "warning"}


def test_risky_operations_lists_drops_type_changes_enums_and_raw_sql(tmp_path):
    script = tmp_path / "risky.py"
    script.write_text(
        "from alembic import op\n"
        "import sqlalchemy as sa\n"
        "revision = 'r_risky'\n"
        "def upgrade():\n"
        "    op.drop_table('legacy')\n"
        "    op.alter_column('users', 'age', type_=sa.BigInteger())\n"
        "    sa.Enum('a', 'b', name='mood').create(op.get_bind())\n"
        "    op.execute('UPDATE users SET age = 0')\n"
        "def downgrade():\n"
        "    op.drop_column('users', 'mood')\n"
    )
    assert risky_operations(script) == [
        "upgrade (line 5): drops table legacy",
        "upgrade (line 6): changes the type of users.age to sa.BigInteger()",
        "upgrade (line 7): creates enum type mood",
        "upgrade (line 8): raw SQL UPDATE users SET age = 0",
        "downgrade (line 10): drops column users.mood",
    ]


def test_a_script_that_is_not_python_is_a_user_error(tmp_path):
    script = tmp_path / "broken.py"
    script.write_text("def upgrade(:\n")
    with pytest.raises(UserError, match="broken.py:1"):
        review_script(script)


DROPS_NAME = """\
from alembic import op
revision = "r_loss"
COLUMN = "name"
{data_loss}
def upgrade():
    op.drop_column("users", "name")
def downgrade():
    pass  # review: ignore empty-downgrade -- not what this test is about
"""


def review_with(tmp_path, data_loss: str) -> list:
    script = tmp_path / "loss.py"
    script.write_text(DROPS_NAME.format(data_loss=data_loss))
    return review_script(script)


def test_a_computed_data_loss_is_said_to_be_unknown_to_the_review_not_taken_for_no_declaration(tmp_path):
    [finding] = review_with(tmp_path, 'data_loss = {"upgrade": [f"users.{COLUMN}"]}')
    assert (finding.rule, finding.severity, finding.line) == ("computed-data-loss", "warning", 4)
    assert finding.message.startswith(
        "data_loss is computed, so the review cannot tell whether it declares what "
        "upgrade() loses dropping column users.name: the walk checks it"
    )


def test_a_literal_data_loss_is_read_by_the_walks_rule(tmp_path):
    assert review_with(tmp_path, 'data_loss = {"upgrade": ["users.name"]}') == []
    assert [f.rule for f in review_with(tmp_path, "")] == ["drop-without-data-move"]


def test_a_data_loss_of_another_shape_is_refused_in_the_walks_words_and_declares_nothing(tmp_path):
    findings = review_with(tmp_path, 'data_loss = {"upgrade": "users.name"}')
    assert sorted(f.rule for f in findings) == ["drop-without-data-move", "invalid-data-loss"]
    [invalid] = [f for f in findings if f.rule == "invalid-data-loss"]
    with pytest.raises(ValueError) as walk_says:
        declared_entries({"upgrade": "users.name"}, "upgrade")
    assert invalid.message == str(walk_says.value)
