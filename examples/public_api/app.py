"""An API called from a browser app on another origin: CORS, security headers and trusted
hosts, all run by covet's Rust engine before routing (see docs/middleware.md).

    .venv/bin/python -m covet run examples.public_api.app:app

    curl -i -X OPTIONS http://127.0.0.1:8000/notes \\
         -H 'Origin: http://localhost:5173' -H 'Access-Control-Request-Method: POST' \\
         -H 'Access-Control-Request-Headers: content-type'
"""

from __future__ import annotations

import os

from pydantic import BaseModel

from covet import Covet, HTTPException
from covet.middleware.cors import CORSMiddleware
from covet.middleware.security import SecurityHeadersMiddleware
from covet.middleware.trustedhost import TrustedHostMiddleware

# The front-end's origin(s), e.g. "https://notes.example.com"; a Vite dev server by default.
FRONTEND_ORIGINS = os.environ.get("FRONTEND_ORIGINS", "http://localhost:5173").split(",")
# The names this API answers to; anything else is refused with 400 before routing.
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,*.example.com").split(",")

app = Covet(title="Notes")
app.add_middleware(TrustedHostMiddleware, allowed_hosts=ALLOWED_HOSTS)
app.add_middleware(
    CORSMiddleware,
    allow_origins=FRONTEND_ORIGINS,
    allow_methods=["GET", "POST", "DELETE"],
    allow_headers=["Authorization"],
    expose_headers=["X-Total-Count"],
    allow_credentials=True,
)
app.add_middleware(SecurityHeadersMiddleware, permissions_policy="camera=(), geolocation=()")


class Note(BaseModel):
    text: str


NOTES: dict[int, Note] = {}


@app.get("/notes")
async def list_notes() -> dict[int, Note]:
    return NOTES


@app.post("/notes", status_code=201)
async def add_note(note: Note) -> dict[str, int]:
    note_id = len(NOTES) + 1
    NOTES[note_id] = note
    return {"id": note_id}


@app.delete("/notes/{note_id}", status_code=204)
async def delete_note(note_id: int) -> None:
    if NOTES.pop(note_id, None) is None:
        raise HTTPException(404, "No such note")
