"""The driver's connection to Ray: lazy connect, token, bounded timeouts, error mapping, reconnect.

Ray is imported only here, and only when the first op needs the cluster (the hello goes out
before). ``ensure()`` connects once and keeps the connection; ``lost()`` forgets it (after
CLUSTER_UNREACHABLE) so the next op connects afresh.

Connecting:
- ``ray://HOST:PORT``: Ray Client (``ray.init("ray://...")``); the per-attempt timeouts are set
  through RAY_CLIENT_INITIAL_CONNECTION_TIMEOUT_S / RAY_CLIENT_MAX_CONNECTION_TIMEOUT_S and a
  lost connection is given up after RAY_CLIENT_RECONNECT_GRACE_PERIOD (all set below unless the
  user set them).
- ``127.0.0.1:PORT`` / ``localhost:PORT``: joins the head on this machine as a local driver with
  ``_node_ip_address="127.0.0.1"``. Ray 2.60 rewrites a loopback node address to the machine's
  interface address (``ray._private.services.resolve_ip_for_localhost``), after which the driver
  looks for a node at that address and hangs; we keep 127.0.0.1 as given (the loopback cluster in
  local.py pins its nodes the same way).
Before either, a plain TCP connect to HOST:PORT (``CONNECT_TIMEOUT_S``) turns "nothing listens
there" into CLUSTER_UNREACHABLE at once instead of Ray's own retry loops.
"""

from __future__ import annotations

import os
import socket
import threading
from typing import Any

from ..errors import CancelledError, ClusterAuthError, ClusterUnreachableError, NodeLostError, SidecarError
from .address import ClusterAddress

CONNECT_TIMEOUT_S = 10.0
CLIENT_ENV_DEFAULTS = {
    "RAY_CLIENT_INITIAL_CONNECTION_TIMEOUT_S": "5",
    "RAY_CLIENT_MAX_CONNECTION_TIMEOUT_S": "10",
    "RAY_CLIENT_RECONNECT_GRACE_PERIOD": "10",
}
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def use_token(token: str | None) -> None:
    """Ray 2.60's token authentication reads its token from the environment (RAY_AUTH_MODE=token
    plus RAY_AUTH_TOKEN, or RAY_AUTH_TOKEN_PATH, or ~/.ray/auth_token) when Ray's core starts, so
    it is set before ``import ray``. Without SFA_RAY_TOKEN the user's own RAY_AUTH_* setup stands."""
    if token:
        os.environ["RAY_AUTH_MODE"] = "token"
        os.environ["RAY_AUTH_TOKEN"] = token
        os.environ.pop("RAY_AUTH_TOKEN_PATH", None)


def _keep_loopback() -> None:
    import ray._private.services as services  # noqa: PLC0415

    original = services.resolve_ip_for_localhost
    if getattr(original, "_sfa_keeps_loopback", False):
        return

    def resolve(host: str) -> str:
        return host if host in ("127.0.0.1", "localhost") else original(host)

    resolve._sfa_keeps_loopback = True  # type: ignore[attr-defined]
    services.resolve_ip_for_localhost = resolve


def _probe_tcp(address: ClusterAddress) -> None:
    host = "127.0.0.1" if address.host == "localhost" else address.host
    try:
        with socket.create_connection((host, address.port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise ClusterUnreachableError(
            f"the Ray cluster at {address.text} cannot be reached ({exc.strerror or exc}); "
            "check that its head is running and reachable from this machine") from None


def classify(exc: BaseException, address: str) -> SidecarError:
    """A Ray failure as one of our typed errors (the codes the engine's retry policy knows)."""
    import ray.exceptions as rex  # noqa: PLC0415

    text = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    if isinstance(exc, SidecarError):
        return exc
    if isinstance(exc, rex.TaskCancelledError):
        return CancelledError()
    if isinstance(exc, rex.AuthenticationError) or "authentication" in text.lower() or "UNAUTHENTICATED" in text:
        return ClusterAuthError(
            f"the Ray cluster at {address} refused our authentication token ({text}); set the cluster's token "
            "(SFA_RAY_TOKEN or the app's cluster settings)")
    if isinstance(exc, (rex.RayActorError, rex.NodeDiedError, rex.ObjectLostError, rex.WorkerCrashedError,
                        rex.LocalRayletDiedError, rex.OwnerDiedError)):
        return NodeLostError(f"the cluster node running this job was lost ({text}); it will be retried")
    if isinstance(exc, (ConnectionError, rex.RpcError, TimeoutError, rex.GetTimeoutError)):
        return ClusterUnreachableError(f"lost the connection to the Ray cluster at {address} ({text})")
    return SidecarError(f"cluster: {text}", "INTERNAL")


class Connection:
    def __init__(self, address: ClusterAddress, token: str | None):
        self.address = address
        self.connected = False
        self.lock = threading.Lock()
        use_token(token)
        for key, value in CLIENT_ENV_DEFAULTS.items():
            os.environ.setdefault(key, value)
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

    def ensure(self) -> Any:
        """The ``ray`` module, connected."""
        with self.lock:
            import ray  # noqa: PLC0415

            if self.connected and ray.is_initialized():
                return ray
            self._connect(ray)
            return ray

    def _connect(self, ray: Any) -> None:
        _probe_tcp(self.address)
        if ray.is_initialized():
            ray.shutdown()
        runtime_env = {"py_modules": [PACKAGE_DIR], "excludes": ["__pycache__", "*.pyc"]}
        common = dict(namespace="sfa", runtime_env=runtime_env, logging_level="WARNING", log_to_driver=False)
        try:
            if self.address.client:
                ray.init(self.address.text, **common)
            else:
                _keep_loopback()
                ray.init(address=f"{'127.0.0.1' if self.address.host == 'localhost' else self.address.host}:"
                                 f"{self.address.port}", _node_ip_address="127.0.0.1", **common)
        except Exception as exc:  # noqa: BLE001 - every failure to connect is typed below
            try:
                ray.shutdown()
            except Exception:  # noqa: BLE001
                pass
            error = classify(exc, self.address.text)
            if error.code in ("INTERNAL", "NODE_LOST"):
                error = ClusterUnreachableError(f"cannot connect to the Ray cluster at {self.address.text}: {exc}")
            raise error from None
        self.connected = True

    def lost(self) -> None:
        """Forget the connection (the next ``ensure`` connects again)."""
        with self.lock:
            self.connected = False
            try:
                import ray  # noqa: PLC0415

                ray.shutdown()
            except Exception:  # noqa: BLE001 - the connection is gone already
                pass
