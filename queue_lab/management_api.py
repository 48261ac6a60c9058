"""RabbitMQ's management HTTP API, as Queue Lab asks it: one client that knows the URL, the account,
the vhost and the timeout, and turns every way a request can fail into one error that says which.

Why one client: the queues panel, the flow diagram, the broker's version, the fault lab's "close
every connection", the preflight of `make run` and the tests all talk to the same API, and each used
to build its own URL. The vhost is the one the AMQP URL names (`amqp://…/class-1` → `class-1`; no
path, `/` or `%2F` → `/`), so a class on a vhost of its own sees its own queues and connections and
nobody else's.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

import requests

DEFAULT_TIMEOUT_S = 2.0


def amqp_vhost(rabbitmq_url: str) -> str:
    """The vhost an AMQP URL names, decoded: its path without the leading slash, %-decoded once
    (the AMQP spelling of "/" is "%2F"); no path at all is the default vhost "/"."""
    path = urlsplit(rabbitmq_url).path
    return unquote(path[1:]) if len(path) > 1 else "/"


class ManagementError(Exception):
    """A request the management API did not answer with what was asked. `kind` says why, for the
    page to explain in the reader's language: "unreachable" (nothing answers at `url`: the plugin is
    off, or the URL is wrong), "refused" (401: `user` is not let in) or "status" (any other answer;
    `status` holds its code, e.g. 404 for a vhost that does not exist)."""

    def __init__(self, kind: str, url: str, user: str, status: int | None = None):
        self.kind, self.url, self.user, self.status = kind, url, user, status
        detail = {"unreachable": "not reachable", "refused": f"refused user {user!r}"}.get(kind, f"answered {status}")
        super().__init__(f"RabbitMQ management API at {url}: {detail}")


@dataclass(frozen=True)
class ManagementAPI:
    url: str
    user: str
    password: str
    vhost: str = "/"
    timeout_s: float = DEFAULT_TIMEOUT_S

    @classmethod
    def from_settings(cls, settings, timeout_s: float = DEFAULT_TIMEOUT_S) -> "ManagementAPI":
        return cls(settings.management_url, settings.management_user, settings.management_password,
                   amqp_vhost(settings.rabbitmq_url), timeout_s)

    @property
    def vhost_path(self) -> str:
        """The vhost as one segment of an HTTP path: "/" is "%2F", "a/b" is "a%2Fb"."""
        return quote(self.vhost, safe="")

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """One request; an answer that is not 2xx raises ManagementError, as does no answer."""
        try:
            response = requests.request(method, self.url + path, auth=(self.user, self.password),
                                        timeout=self.timeout_s, **kwargs)
        except requests.RequestException:
            raise ManagementError("unreachable", self.url, self.user) from None
        if response.status_code == 401:
            raise ManagementError("refused", self.url, self.user, 401)
        if not response.ok:
            raise ManagementError("status", self.url, self.user, response.status_code)
        return response

    def get(self, path: str, **params):
        try:
            return self.request("GET", path, params=params or None).json()
        except ValueError:  # 200 with a body that is not JSON: not the management API
            raise ManagementError("status", self.url, self.user, 200) from None

    def answers(self) -> bool:
        """Something answers at the URL (with any status): the plugin is on."""
        try:
            requests.get(self.url + "/api/overview", timeout=self.timeout_s)
            return True
        except requests.RequestException:
            return False

    # -- what Queue Lab reads and does -----------------------------------------------------------

    def overview(self) -> dict:
        return self.get("/api/overview")

    def queues(self, columns: tuple[str, ...] = ()) -> list[dict]:
        """Every queue of our vhost (the broker may be shared: callers pick theirs out)."""
        return self.get(f"/api/queues/{self.vhost_path}", **({"columns": ",".join(columns)} if columns else {}))

    def bindings(self) -> list[dict]:
        """Every binding of our vhost: source (exchange), destination (queue), routing_key."""
        return self.get(f"/api/bindings/{self.vhost_path}")

    def connections(self) -> list[dict]:
        return self.get(f"/api/vhosts/{self.vhost_path}/connections")

    def close_connection(self, name: str, reason: str) -> bool:
        """Close one client connection; the client sees `reason` (CONNECTION_FORCED). False when it
        had already gone."""
        try:
            self.request("DELETE", f"/api/connections/{quote(name, safe='')}", headers={"X-Reason": reason})
            return True
        except ManagementError as error:
            if error.status == 404:
                return False
            raise
