"""The checks after each leg of one revision's round trip, as functions over what the walk recorded (a RoundTrip):
upgrade.py, downgrade.py, upgrade_again.py, and compare.py for what they share (the schema check among it).

The walk (revision_walk.py) runs the legs, copies the data and hands each check the copies and snapshots it needs; a check
reads the database only to compare, and returns findings. So "where is the downgrade check?" is
`downgrade.py: check_downgrade`.

Two things the checks forgive, because they are not losses:
- the clock: a timestamp column whose changed values all fall inside the leg that changed them was set to the
  current time by the migration (a `now()` default, a backfill, an ORM `onupdate`); a note, and the other columns
  of those rows are compared without it;
- a type change that keeps every value: values compared under the new type (10.5 and 10.500 in numeric(8,3)).
"""
