"""SQL for event banners."""


def set_banner(conn, event_id, key, position):
    """Store the banner key (None: keep the current one) and position."""
    if key:
        conn.execute("UPDATE events SET banner_key = ?, banner_position = ? WHERE id = ?",
                     (key, position, event_id))
    else:
        conn.execute("UPDATE events SET banner_position = ? WHERE id = ?", (position, event_id))


def clear_banner(conn, event_id):
    """Forget the event's banner."""
    conn.execute("UPDATE events SET banner_key = NULL WHERE id = ?", (event_id,))
