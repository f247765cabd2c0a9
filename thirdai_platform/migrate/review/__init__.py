"""Reading revisions without running them.

syntax           the script as the review reads it (ParsedScript), its data_loss, and helpers on the syntax tree
rules            the review's rules (RULES, CHECKS), each a function of the parsed script
reviewer         review_script() (every rule, but those silenced) and risky_operations(): the script, never imported
sqllint          the revisions' offline SQL through squawk (rules and why some are off: squawk.toml)
ignore_comments  `# review: ignore RULE -- reason` and `# squawk: ignore ...`, read the same way for both
"""

from thirdai_platform.migrate.review.reviewer import review_script, risky_operations
from thirdai_platform.migrate.review.rules import ERROR, RULES, WARNING
from thirdai_platform.migrate.review.syntax import ReviewFinding

__all__ = ["ERROR", "RULES", "WARNING", "ReviewFinding", "review_script", "risky_operations"]
