"""Builders for the REST API tests: API keys and bearer headers."""
from phopy.data import get_database
from phopy.services import api_keys


def make_key(app, photographer_id, name="script"):
    """Create an API key; return (row, key)."""
    conn = get_database(app).connect()
    try:
        return api_keys.create_key(conn, photographer_id, name)
    finally:
        conn.close()


def bearer(key):
    return {"Authorization": f"Bearer {key}"}
