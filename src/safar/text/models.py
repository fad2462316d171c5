"""Corrections of the model's labels, made by people on the Listen page.

Each row is one correction of one field (sentiment, emotion or category) of one event's text:
what the model said, what the reader says it is, who said so and when. The newest correction
of a message and field is its label from then on (pages count it); the rows stay as the
training feedback for the local model (``safar text feedback export``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from safar.db import Base, BigId, utcnow


class TextFeedback(Base):
    __tablename__ = "text_feedback"
    __table_args__ = (Index("ix_text_feedback_message", "workspace_id", "message_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(20))
    old_label: Mapped[str | None] = mapped_column(String(40), default=None)
    new_label: Mapped[str] = mapped_column(String(40))
    user: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)
