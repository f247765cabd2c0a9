"""Static review of one Alembic revision script: reads its syntax tree, never imports or runs it.

syntax   the script as the review reads it (ParsedScript), its data_loss, and helpers on the syntax tree
rules    the rules (RULES), review_script() and risky_operations()
"""

from thirdai_platform.migrate.review.rules import ERROR, RULES, WARNING, review_script, risky_operations
from thirdai_platform.migrate.review.syntax import ReviewFinding

__all__ = ["ERROR", "RULES", "WARNING", "ReviewFinding", "review_script", "risky_operations"]
