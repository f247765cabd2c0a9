"""The daily `inv db.*` verbs (verbs.py), what they print, `inv db.plan`, and the lock that keeps two migrations apart."""
