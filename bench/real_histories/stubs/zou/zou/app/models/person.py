"""Stub of zou.app.models.person: the one name zou's revisions import (its values as in zou 1.0.97)."""
ROLE_TYPES = [
    ("user", "Artist"),
    ("admin", "Studio Manager"),
    ("supervisor", "Supervisor"),
    ("manager", "Production Manager"),
    ("client", "Client"),
    ("vendor", "Vendor"),
]
