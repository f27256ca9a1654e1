"""HTTP security: response headers (a Content-Security-Policy without inline scripts) and
sign-in throttling that holds across processes (it counts failures in the database)."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask, Response
from sqlalchemy import delete, func, select
from werkzeug.middleware.proxy_fix import ProxyFix

from .extensions import db
from .models import LoginFailure, utcnow

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")


def init_app(app: Flask) -> None:
    app.config.setdefault("CONTENT_SECURITY_POLICY", CSP)
    app.config.setdefault("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5)  # per account and address
    app.config.setdefault("LOGIN_MAX_FAILURES_PER_ADDRESS", 20)
    app.config.setdefault("LOGIN_FAILURE_WINDOW_SECONDS", 900)
    app.config.setdefault("PROXY_HOPS", 0)
    hops = int(app.config["PROXY_HOPS"])
    if hops > 0:
        # Behind that many trusted proxies the client's address and scheme come from their
        # X-Forwarded-For/-Proto: sign-in throttling and the open/download rules need the
        # client's address, not the proxy's. Never set it without a proxy in front: anyone
        # could then choose their own address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", app.config["CONTENT_SECURITY_POLICY"])
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def _window(config: dict, now: datetime) -> datetime:
    return now - timedelta(seconds=int(config["LOGIN_FAILURE_WINDOW_SECONDS"]))


def login_blocked(config: dict, email: str, remote_addr: str, now: datetime | None = None) -> bool:
    """Too many recent failures for this account from this network address, or from this
    address for any account. Counted per (account, address), so nobody can lock an agent
    out from elsewhere: the right password from an address that has not failed goes through."""
    since = _window(config, now or utcnow())
    per_account = db.session.scalar(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.email == email.strip().lower(), LoginFailure.remote_addr == remote_addr,
        LoginFailure.at > since)) or 0
    per_address = db.session.scalar(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.remote_addr == remote_addr, LoginFailure.at > since)) or 0
    return (per_account >= int(config["LOGIN_MAX_FAILURES_PER_ACCOUNT"])
            or per_address >= int(config["LOGIN_MAX_FAILURES_PER_ADDRESS"]))


def record_login_failure(config: dict, email: str, remote_addr: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    db.session.execute(delete(LoginFailure).where(LoginFailure.at <= _window(config, now)))
    db.session.add(LoginFailure(email=email.strip().lower()[:320], remote_addr=remote_addr[:64], at=now))
    db.session.commit()


def clear_login_failures(email: str, remote_addr: str) -> None:
    """A successful sign-in forgets this address's failures for the account (not others')."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == email.strip().lower(),
                                                  LoginFailure.remote_addr == remote_addr))
    db.session.commit()
