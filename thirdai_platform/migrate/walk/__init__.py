"""The walk: every revision up, down and up again on generated data, and the checks that say what each leg lost."""
