"""Deploy safety: what a revision does to the traffic of the versions running while it deploys (rolling.py)."""
