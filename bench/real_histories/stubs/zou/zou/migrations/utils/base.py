"""Stub of zou.migrations.utils.base: BaseMixin as in zou 1.0.97, without zou.app's helpers."""
import datetime
import uuid

import sqlalchemy as sa
from sqlalchemy_utils import UUIDType


def utc_now():
    return datetime.datetime.now(tz=datetime.timezone.utc).replace(tzinfo=None)


class BaseMixin(object):
    id = sa.Column(UUIDType(binary=False), primary_key=True, default=uuid.uuid4)
    created_at = sa.Column(sa.DateTime, default=utc_now)
    updated_at = sa.Column(sa.DateTime, default=utc_now, onupdate=utc_now)
