"""Registration, login and logout (Flask tutorial's `auth` blueprint, as a router)."""

from __future__ import annotations

import sqlite3
from typing import Annotated

from covet import APIRouter, Form, Request
from covet.passwords import hash_password, verify_password
from covet.responses import HTMLResponse, RedirectResponse, Response
from covet.sessions import flash
from examples.flaskr.db import get_db
from examples.flaskr.templating import templates

router = APIRouter(prefix="/auth")
Field = Annotated[str, Form()]


class LoginRequired(Exception):
    """Raised by `login_required` for an anonymous request; the app answers it with a redirect
    to the login page (Flask's `login_required` decorator returns the redirect itself)."""


def load_logged_in_user(request: Request) -> None:
    """`before_request` hook (on the app): the logged-in user, or None, in `request.state.user`
    (Flask's `g.user`)."""
    user_id = request.session.get("user_id")
    request.state.user = (
        None if user_id is None else get_db(request).execute("SELECT * FROM user WHERE id = ?", (user_id,)).fetchone()
    )


def login_required(request: Request) -> sqlite3.Row:
    """A dependency: the logged-in user, else `LoginRequired`."""
    if request.state.user is None:
        raise LoginRequired
    return request.state.user  # type: ignore[no-any-return]


def redirect(request: Request, name: str, **params: object) -> RedirectResponse:
    assert request.app is not None
    return RedirectResponse(request.app.url_path_for(name, **params), status_code=303)


@router.get("/register", name="auth.register", response_class=HTMLResponse)
def register_form(request: Request) -> Response:
    return templates.TemplateResponse(request, "auth/register.html")


@router.post("/register", name="auth.register_post", response_class=HTMLResponse)
def register(request: Request, username: Field = "", password: Field = "") -> Response:
    error = None
    if not username:
        error = "Username is required."
    elif not password:
        error = "Password is required."
    if error is None:
        db = get_db(request)
        try:
            db.execute("INSERT INTO user (username, password) VALUES (?, ?)", (username, hash_password(password)))
            db.commit()
        except db.IntegrityError:
            error = f"User {username} is already registered."
        else:
            return redirect(request, "auth.login")
    flash(request, error)
    return templates.TemplateResponse(request, "auth/register.html")


@router.get("/login", name="auth.login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return templates.TemplateResponse(request, "auth/login.html")


@router.post("/login", name="auth.login_post", response_class=HTMLResponse)
def login(request: Request, username: Field = "", password: Field = "") -> Response:
    user = get_db(request).execute("SELECT * FROM user WHERE username = ?", (username,)).fetchone()
    error = None
    if user is None:
        error = "Incorrect username."
    elif not verify_password(password, user["password"]):
        error = "Incorrect password."
    if error is None:
        request.session.clear()
        request.session["user_id"] = user["id"]
        return redirect(request, "blog.index")
    flash(request, error)
    return templates.TemplateResponse(request, "auth/login.html")


@router.get("/logout", name="auth.logout")
def logout(request: Request) -> Response:
    request.session.clear()
    return redirect(request, "blog.index")
