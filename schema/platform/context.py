"""The typed request context: who is asking, the request id, and this request's DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field

from strawberry.types.info import Info as StrawberryInfo

from domain.access import Actor
from domain.errors import ErrorCode
from schema.platform.loaders import Loaders


@dataclass
class Context:
    actor: Actor | None
    request_id: str
    client_ip: str = ""
    token: str = ""  # the bearer token the actor came from: a long-lived subscription checks it again
    _loaders: Loaders | None = field(default=None, repr=False)
    # personal data this response carries in clear: (type, id) → fields; audited before the response leaves
    disclosed: dict[tuple[str, int], set[str]] = field(default_factory=dict, repr=False)

    def disclose(self, target_type: str, target_id: int, field_name: str) -> None:
        self.disclosed.setdefault((target_type, target_id), set()).add(field_name)

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            self._loaders = Loaders.for_actor(self.require_actor())
        return self._loaders

    def require_actor(self) -> Actor:
        """The signed-in actor. Every field that needs one asks for it first: this is the one check of
        signing in (anonymous callers reach only `login`)."""
        if self.actor is None:
            raise UnauthenticatedError()
        return self.actor


class UnauthenticatedError(Exception):
    """Raised when a field that needs a signed-in user is asked for without a valid token."""

    def __init__(self) -> None:
        super().__init__("请先登录 / sign in first")
        self.extensions = {"code": ErrorCode.UNAUTHENTICATED.value}


Info = StrawberryInfo[Context, None]

__all__ = ["Context", "Info", "UnauthenticatedError"]
