"""Sync data-access helpers: fine from plain `def` routes, blocking from `async def` ones."""


def get_user(db, user_id: int):
    return db.query("User").filter_by(id=user_id).first()


def list_users(db, limit: int = 50):
    return db.query("User").limit(limit).all()
