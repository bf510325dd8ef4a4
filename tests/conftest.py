import datetime as dt
import os

import pytest
from django.db import connection

from tests import factories

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    return f"muster database: {db['ENGINE'].rsplit('.', 1)[-1]} {db.get('HOST') or db['NAME']}"


@pytest.fixture
def now():
    return dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def feed(tmp_path):
    """Write population records (dicts or raw strings) as a JSON Lines file."""
    return factories.FeedWriter(tmp_path)


@pytest.fixture
def vendor():
    return connection.vendor
