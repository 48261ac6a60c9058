"""The floor for our status API: a bare Flask JSON endpoint doing one SQLite write per request,
served by the same gunicorn config (`gunicorn -c api/gunicorn_conf.py "bench.bare_app:create_app()"`).
"""
import os
import sqlite3
import threading

from flask import Flask, jsonify, request


def create_app() -> Flask:
    app = Flask(__name__)
    path = os.environ.get("DATABASE_PATH", "var/bench-bare.sqlite3")
    local = threading.local()

    def connection() -> sqlite3.Connection:
        conn = getattr(local, "conn", None)
        if conn is None or local.pid != os.getpid():
            conn = sqlite3.connect(path, timeout=10, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("CREATE TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY, body TEXT)")
            local.conn, local.pid = conn, os.getpid()
        return conn

    @app.post("/bare")
    def bare():
        body = request.get_json()
        conn = connection()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO hits (body) VALUES (?)", (str(body),))
        conn.execute("COMMIT")
        return jsonify(ok=True)

    return app
