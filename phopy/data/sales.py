"""SQL for selling photos (phopy.sales): prices, tiers, orders and their items,
Stripe webhook records. Amounts are integer satang."""
from phopy.data.timeutil import utc_now_iso


# -- pricing ------------------------------------------------------------------
def get_pricing(conn, event_id):
    """The event's pricing row with its tiers (``tiers``: [{photos, price}]), or None (free)."""
    row = conn.one("SELECT * FROM sales_pricing WHERE event_id = ?", (event_id,))
    if row is not None:
        row["tiers"] = conn.all("SELECT photos, price FROM sales_tiers WHERE event_id = ? "
                                "ORDER BY photos", (event_id,))
    return row


def save_pricing(conn, event_id, photo_price, bundle_price, tiers, provider, promptpay_id):
    """Make the event paid with these prices (replacing its tiers)."""
    with conn.transaction():
        conn.execute(
            "INSERT INTO sales_pricing (event_id, photo_price, bundle_price, provider, "
            "promptpay_id, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO "
            "UPDATE SET photo_price = excluded.photo_price, bundle_price = "
            "excluded.bundle_price, provider = excluded.provider, promptpay_id = "
            "excluded.promptpay_id, updated_at = excluded.updated_at",
            (event_id, photo_price, bundle_price, provider, promptpay_id, utc_now_iso()))
        conn.execute("DELETE FROM sales_tiers WHERE event_id = ?", (event_id,))
        conn.executemany("INSERT INTO sales_tiers (event_id, photos, price) VALUES (?, ?, ?)",
                         [(event_id, photos, price) for photos, price in tiers])


def make_free(conn, event_id):
    """The event gives its photos away again (orders already paid keep their downloads)."""
    with conn.transaction():
        conn.execute("DELETE FROM sales_tiers WHERE event_id = ?", (event_id,))
        conn.execute("DELETE FROM sales_pricing WHERE event_id = ?", (event_id,))


# -- orders -------------------------------------------------------------------
def insert_order(conn, order, items):
    """Store a new order (a dict of its columns) and its items [(photo_id, amount)]."""
    columns = ("id", "event_id", "token_hash", "email", "status", "kind", "amount",
               "currency", "provider", "created_at", "expires_at", "erase_at")
    with conn.transaction():
        conn.execute(f"INSERT INTO sales_orders ({', '.join(columns)}) "
                     f"VALUES ({', '.join('?' for _ in columns)})",
                     [order[c] for c in columns])
        conn.executemany("INSERT INTO sales_order_items (order_id, photo_id, amount) "
                         "VALUES (?, ?, ?)", [(order["id"], pid, amount) for pid, amount in items])


def get_order(conn, order_id):
    """One order, or None."""
    return conn.one("SELECT * FROM sales_orders WHERE id = ?", (order_id,))


def get_order_by_token_hash(conn, token_hash):
    """The order whose secret link hashes to this, or None."""
    return conn.one("SELECT * FROM sales_orders WHERE token_hash = ?", (token_hash,))


def get_order_by_payment(conn, payment_ref):
    """The order paid through this PaymentIntent, or None."""
    return conn.one("SELECT * FROM sales_orders WHERE payment_ref = ?", (payment_ref,))


def order_items(conn, order_id):
    """The order's items with their photo (``filename`` None when the photo is gone)."""
    return conn.all("SELECT i.*, p.filename, p.event_id AS photo_event_id FROM "
                    "sales_order_items i LEFT JOIN photos p ON p.id = i.photo_id "
                    "WHERE i.order_id = ? ORDER BY i.photo_id", (order_id,))


def set_payment(conn, order_id, payment_ref, payment_qr):
    """Record the provider's payment id and QR payload of a pending order."""
    conn.execute("UPDATE sales_orders SET payment_ref = ?, payment_qr = ? WHERE id = ?",
                 (payment_ref, payment_qr, order_id))


def set_slip(conn, order_id, slip_key):
    """Record the transfer slip of a pending order."""
    conn.execute("UPDATE sales_orders SET slip_key = ? WHERE id = ? AND status = 'pending'",
                 (slip_key, order_id))


def mark_paid(conn, order_id, paid_at, downloads_until, erase_at):
    """pending (or expired: the money came anyway) -> paid; False when it was not."""
    cur = conn.execute(
        "UPDATE sales_orders SET status = 'paid', paid_at = ?, downloads_until = ?, "
        "erase_at = ?, closed_at = NULL WHERE id = ? AND status IN ('pending', 'expired')",
        (paid_at, downloads_until, erase_at, order_id))
    return cur.rowcount == 1


def mark_refunded(conn, order_id, refunded_at):
    """paid -> refunded; False when it was not paid."""
    cur = conn.execute("UPDATE sales_orders SET status = 'refunded', refunded_at = ? "
                       "WHERE id = ? AND status = 'paid'", (refunded_at, order_id))
    return cur.rowcount == 1


def close_order(conn, order_id, status, closed_at, erase_at):
    """pending -> expired or rejected; False when it was not pending."""
    cur = conn.execute("UPDATE sales_orders SET status = ?, closed_at = ?, erase_at = ? "
                       "WHERE id = ? AND status = 'pending'",
                       (status, closed_at, erase_at, order_id))
    return cur.rowcount == 1


def due_to_expire(conn, now, limit=100):
    """Pending orders past their time with no slip waiting for the photographer."""
    return conn.all("SELECT * FROM sales_orders WHERE status = 'pending' AND expires_at <= ? "
                    "AND slip_key IS NULL ORDER BY expires_at LIMIT ?", (now, limit))


def count_download(conn, order_id, photo_ids):
    """Add one download to each of these items."""
    conn.executemany("UPDATE sales_order_items SET downloads = downloads + 1 "
                     "WHERE order_id = ? AND photo_id = ?",
                     [(order_id, pid) for pid in photo_ids])


def due_to_erase(conn, now, limit=500):
    """Orders whose buyer data (e-mail, slip) is due to be erased."""
    return conn.all("SELECT id, slip_key FROM sales_orders WHERE erase_at <= ? AND "
                    "erased_at IS NULL ORDER BY erase_at LIMIT ?", (now, limit))


def erase_buyer(conn, order_id, now):
    """Forget the order's e-mail and slip (the amounts stay for the photographer's sums)."""
    conn.execute("UPDATE sales_orders SET email = NULL, slip_key = NULL, erased_at = ? "
                 "WHERE id = ?", (now, order_id))


def event_orders(conn, event_id, limit=200, offset=0):
    """The event's orders, newest first, with how many photos each holds."""
    return conn.all(
        "SELECT o.*, (SELECT COUNT(*) FROM sales_order_items i WHERE i.order_id = o.id) "
        "AS photo_count FROM sales_orders o WHERE o.event_id = ? "
        "ORDER BY o.created_at DESC, o.id LIMIT ? OFFSET ?", (event_id, limit, offset))


def count_event_orders(conn, event_id):
    """How many orders the event has."""
    return conn.scalar("SELECT COUNT(*) FROM sales_orders WHERE event_id = ?", (event_id,))


def awaiting_review(conn, owner_id):
    """How many pending orders with a slip wait for this photographer."""
    return conn.scalar("SELECT COUNT(*) FROM sales_orders o JOIN events e ON e.id = o.event_id "
                       "WHERE e.owner_id = ? AND o.status = 'pending' AND o.slip_key IS NOT NULL",
                       (owner_id,))


def event_totals(conn, event_id):
    """{status: (orders, amount)} of the event."""
    rows = conn.all("SELECT status, COUNT(*) AS orders, COALESCE(SUM(amount), 0) AS amount "
                    "FROM sales_orders WHERE event_id = ? GROUP BY status", (event_id,))
    return {r["status"]: (int(r["orders"]), int(r["amount"])) for r in rows}


def photo_revenue(conn, event_id):
    """Paid revenue per photo of the event, best first."""
    return conn.all(
        "SELECT i.photo_id, p.filename, COUNT(*) AS orders, SUM(i.amount) AS amount, "
        "SUM(i.downloads) AS downloads FROM sales_order_items i "
        "JOIN sales_orders o ON o.id = i.order_id LEFT JOIN photos p ON p.id = i.photo_id "
        "WHERE o.event_id = ? AND o.status = 'paid' GROUP BY i.photo_id, p.filename "
        "ORDER BY SUM(i.amount) DESC, i.photo_id", (event_id,))


def totals_by_status(conn):
    """[(status, orders, amount)] over every event (for /metrics)."""
    return conn.tuples("SELECT status, COUNT(*), COALESCE(SUM(amount), 0) FROM sales_orders "
                       "GROUP BY status ORDER BY status")


# -- webhooks -----------------------------------------------------------------
def claim_webhook_event(conn, event_id, event_type):
    """Record a Stripe event id; False when it was already recorded (a redelivery)."""
    cur = conn.execute("INSERT INTO sales_webhook_events (id, type, received_at) "
                       "VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
                       (event_id, event_type, utc_now_iso()))
    return cur.rowcount == 1


def prune_webhook_events(conn, before):
    """Delete webhook records received before ``before``; how many."""
    return conn.execute("DELETE FROM sales_webhook_events WHERE received_at < ?",
                        (before,)).rowcount
