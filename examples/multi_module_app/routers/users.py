from fastapi import APIRouter, Depends

from .. import crud
from ..db import get_db
from ..limits import rate_limit

router = APIRouter(prefix="/users", dependencies=[Depends(rate_limit)])


@router.get("/{user_id}")
async def read_user(user_id: int, db=Depends(get_db)):
    return crud.get_user(db, user_id)  # FAA101: read_user -> crud.get_user -> Session.query


@router.get("/")
def list_users(db=Depends(get_db)):
    # A plain `def` route runs in FastAPI's thread pool: the same helper is fine here.
    return crud.list_users(db)
