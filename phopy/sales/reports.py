"""The photographer's numbers for one event: orders, totals by status, revenue per photo."""
from phopy.data import sales as sales_db
from phopy.sales.pricing import format_baht


def overview(conn, event_id):
    """What the Sales page shows: its orders (newest first), totals, revenue per photo."""
    return {"orders": sales_db.event_orders(conn, event_id),
            "totals": sales_db.event_totals(conn, event_id),
            "per_photo": sales_db.photo_revenue(conn, event_id)}


def page_of_orders(conn, event_id, limit, offset):
    """(orders, total) for one page of the event's orders."""
    return (sales_db.event_orders(conn, event_id, limit=limit, offset=offset),
            sales_db.count_event_orders(conn, event_id))


def all_orders(conn, event_id):
    """Every order of the event (the CSV)."""
    return sales_db.event_orders(conn, event_id, limit=1_000_000)


def order_json(order):
    """An order as the CSV and the REST API give it (amount in satang and in baht)."""
    return {"id": order["id"], "created_at": order["created_at"], "status": order["status"],
            "kind": order["kind"], "photo_count": order["photo_count"],
            "amount": order["amount"], "amount_thb": format_baht(order["amount"]),
            "currency": order["currency"], "provider": order["provider"],
            "payment_ref": order["payment_ref"], "paid_at": order["paid_at"],
            "refunded_at": order["refunded_at"], "email": order["email"]}
