"""What handlers may use: the database session of this step, today's date, the settings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session


@dataclass
class Context:
    session: Session
    today: dt.date
    settings: dict[str, Any] = field(default_factory=dict)
