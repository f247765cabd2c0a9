"""The PostgreSQL a walk runs on: an ephemeral server of our own, or databases on a server of the user's."""
