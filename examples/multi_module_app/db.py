"""The engine and the session dependency; the app's lifespan disposes the engine."""

import os

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql+psycopg2://app@db/app")

engine = create_engine(DATABASE_URL, pool_size=10, max_overflow=5, pool_timeout=10, pool_recycle=1800, pool_pre_ping=True)
SessionLocal = sessionmaker(bind=engine)


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()
