"""How a walk is shown: the console summary, JSON, JUnit, SARIF and HTML files, and what the run was."""
