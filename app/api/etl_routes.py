"""Placeholder created by foundation so app.main imports; owned by the jobs part (docs/contracts.md)."""

from fastapi import APIRouter

router = APIRouter()
