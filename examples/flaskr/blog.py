"""The blog: every post on the index; the logged-in user writes, edits and deletes their own
(Flask tutorial's `blog` blueprint, as a router)."""

from __future__ import annotations

import sqlite3
from typing import Annotated

from covet import APIRouter, Depends, Form, Request
from covet.exceptions import HTTPException
from covet.responses import HTMLResponse, Response
from covet.sessions import flash
from examples.flaskr.auth import login_required, redirect
from examples.flaskr.db import get_db
from examples.flaskr.templating import templates

router = APIRouter()
User = Annotated[sqlite3.Row, Depends(login_required)]
Field = Annotated[str, Form()]


@router.get("/", name="blog.index", response_class=HTMLResponse)
def index(request: Request) -> Response:
    posts = (
        get_db(request)
        .execute(
            "SELECT p.id, title, body, created, author_id, username"
            " FROM post p JOIN user u ON p.author_id = u.id ORDER BY created DESC"
        )
        .fetchall()
    )
    return templates.TemplateResponse(request, "blog/index.html", {"posts": posts})


def get_post(request: Request, id: int, check_author: bool = True) -> sqlite3.Row:
    """The post, else 404; 403 unless the logged-in user wrote it (with `check_author`)."""
    post = (
        get_db(request)
        .execute(
            "SELECT p.id, title, body, created, author_id, username"
            " FROM post p JOIN user u ON p.author_id = u.id WHERE p.id = ?",
            (id,),
        )
        .fetchone()
    )
    if post is None:
        raise HTTPException(404, f"Post id {id} doesn't exist.")
    if check_author and post["author_id"] != request.state.user["id"]:
        raise HTTPException(403)
    return post  # type: ignore[no-any-return]


@router.get("/create", name="blog.create", response_class=HTMLResponse)
def create_form(request: Request, user: User) -> Response:
    return templates.TemplateResponse(request, "blog/create.html")


@router.post("/create", name="blog.create_post", response_class=HTMLResponse)
def create(request: Request, user: User, title: Field = "", body: Field = "") -> Response:
    if not title:
        flash(request, "Title is required.")
        return templates.TemplateResponse(request, "blog/create.html")
    db = get_db(request)
    db.execute("INSERT INTO post (title, body, author_id) VALUES (?, ?, ?)", (title, body, user["id"]))
    db.commit()
    return redirect(request, "blog.index")


@router.get("/{id}/update", name="blog.update", response_class=HTMLResponse)
def update_form(request: Request, id: int, user: User) -> Response:
    return templates.TemplateResponse(request, "blog/update.html", {"post": get_post(request, id)})


@router.post("/{id}/update", name="blog.update_post", response_class=HTMLResponse)
def update(request: Request, id: int, user: User, title: Field = "", body: Field = "") -> Response:
    post = get_post(request, id)
    if not title:
        flash(request, "Title is required.")
        return templates.TemplateResponse(request, "blog/update.html", {"post": post})
    db = get_db(request)
    db.execute("UPDATE post SET title = ?, body = ? WHERE id = ?", (title, body, id))
    db.commit()
    return redirect(request, "blog.index")


@router.post("/{id}/delete", name="blog.delete")
def delete(request: Request, id: int, user: User) -> Response:
    get_post(request, id)
    db = get_db(request)
    db.execute("DELETE FROM post WHERE id = ?", (id,))
    db.commit()
    return redirect(request, "blog.index")
