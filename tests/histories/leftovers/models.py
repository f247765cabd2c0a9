import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData()

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("email", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("last_login", sa.DateTime(timezone=True)),
    sa.Index("ix_users_created_at", "created_at"),
)
subscriptions = sa.Table(
    "subscriptions", metadata,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("plan", postgresql.ENUM("free", "pro", "enterprise", name="plan"), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True)),
)
invoice_number_seq = sa.Sequence("invoice_number_seq", metadata=metadata, start=1000)
invoices = sa.Table(
    "invoices", metadata,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("subscription_id", sa.Integer, sa.ForeignKey("subscriptions.id"), nullable=False),
    sa.Column("number", sa.BigInteger, nullable=False, server_default=sa.text("nextval('invoice_number_seq')")),
)
