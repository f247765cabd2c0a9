import sqlalchemy as sa

metadata = sa.MetaData()  # two heads: the walk never compares models with them
