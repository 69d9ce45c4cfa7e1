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

import importlib
import os
import socket
import sys
import threading
from typing import Any

from ..errors import CancelledError, ClusterAuthError, ClusterUnreachableError, NodeLostError, RayMissingError, SidecarError
from .address import ClusterAddress

CONNECT_TIMEOUT_S = 10.0
GCS_CHECK_TIMEOUT_S = 10.0
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


def import_ray() -> Any:
    """``ray``, or RayMissingError. Ray may be installed while this driver runs (the app's Install
    button): until it has been imported once, the import system's directory caches are dropped
    before each try, so the new package is found without a restart."""
    if "ray" not in sys.modules:
        importlib.invalidate_caches()
    try:
        import ray  # noqa: PLC0415
    except ImportError as exc:
        raise RayMissingError(
            f"cluster support (Ray) is not installed in {sys.executable} ({exc}); install it from the app "
            "(Settings → Cluster), with `sfa cluster install`, or `npm run setup -- --cluster`: jobs wait for it") from None
    return ray


def _initialized(ray: Any) -> bool:
    """``ray.is_initialized()``, False where it raises: a Ray Client whose server went away raises
    ValueError("Cannot invoke RPC on closed channel!") here, which once escaped as INTERNAL (an
    attempt spent) instead of CLUSTER_UNREACHABLE (a wait)."""
    try:
        return bool(ray.is_initialized())
    except Exception:  # noqa: BLE001 - a connection that cannot say is not one
        return False


def _tcp_open(address: ClusterAddress) -> bool:
    try:
        _probe_tcp(address)
        return True
    except ClusterUnreachableError:
        return False


def _probe_tcp(address: ClusterAddress) -> None:
    host = "127.0.0.1" if address.host == "localhost" else address.host
    try:
        with socket.create_connection((host, address.port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise ClusterUnreachableError(
            f"the Ray cluster at {address.text} cannot be reached ({exc.strerror or exc}); "
            "check that its head is running and reachable from this machine") from None


def _probe_gcs(gcs: str) -> None:
    """Ask the head's GCS once: a wrong token raises ray.exceptions.AuthenticationError here at
    once, where ``ray.init`` would retry for ~20 s and then say only "Failed to connect"."""
    from ray._raylet import GcsClient  # noqa: PLC0415

    GcsClient(address=gcs).get_all_node_info(timeout=CONNECT_TIMEOUT_S)


def _probe_client(hostport: str) -> None:
    """One PING to the Ray Client server through Ray's own channel (which adds the token): a
    refused token is UNAUTHENTICATED here, where ``ray.init("ray://...")`` retries until it
    says only "ray client connection timeout". Any other answer is left to ``ray.init``."""
    import grpc  # noqa: PLC0415
    import ray.core.generated.ray_client_pb2 as pb  # noqa: PLC0415
    import ray.core.generated.ray_client_pb2_grpc as pb_grpc  # noqa: PLC0415
    from ray._private.grpc_utils import init_grpc_channel  # noqa: PLC0415

    channel = init_grpc_channel(hostport, asynchronous=False)
    try:
        pb_grpc.RayletDriverStub(channel).ClusterInfo(pb.ClusterInfoRequest(type=pb.ClusterInfoType.PING),
                                                      timeout=CONNECT_TIMEOUT_S, metadata=[("client_id", "sfa-probe")])
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.UNAUTHENTICATED:
            raise ClusterAuthError(f"the Ray cluster at ray://{hostport} refused our authentication token; set the "
                                   "cluster's token (SFA_RAY_TOKEN or the app's cluster settings)") from None
    finally:
        channel.close()


# How Ray 2.60 answers a client of a head that restarted at the same address: an
# AuthenticationError("RPC error: WrongClusterID: Perhaps the client is accessing GCS after it has
# restarted..."): the GCS checks the cluster id each request carries. Not a refused token: read as
# CLUSTER_AUTH it once discarded jobs after a head restart.
RESTARTED_MARK = "WrongClusterID"


def classify(exc: BaseException, address: str) -> SidecarError:
    """A Ray failure as one of our typed errors (the codes the engine's retry policy knows)."""
    import ray.exceptions as rex  # noqa: PLC0415

    text = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    if isinstance(exc, SidecarError):
        return exc
    if isinstance(exc, rex.TaskCancelledError):
        return CancelledError()
    if RESTARTED_MARK in str(exc):
        return ClusterUnreachableError(
            f"the Ray cluster at {address} restarted while this job ran; it waits and runs again")
    if isinstance(exc, rex.AuthenticationError) or "authentication" in text.lower() or "UNAUTHENTICATED" in text:
        return ClusterAuthError(
            f"the Ray cluster at {address} refused our authentication token ({text}); set the cluster's token "
            "(SFA_RAY_TOKEN or the app's cluster settings)")
    if isinstance(exc, (rex.RayActorError, rex.NodeDiedError, rex.ObjectLostError, rex.WorkerCrashedError,
                        rex.LocalRayletDiedError, rex.OwnerDiedError)):
        return NodeLostError(f"the cluster node running this job was lost ({text}); it will be retried")
    if isinstance(exc, (ConnectionError, rex.RpcError, TimeoutError, rex.GetTimeoutError)) or \
            type(exc).__module__.startswith("grpc"):  # Ray Client surfaces a dropped channel as grpc's error
        return ClusterUnreachableError(f"lost the connection to the Ray cluster at {address} ({text})")
    return SidecarError(f"cluster: {text}", "INTERNAL")


class Connection:
    def __init__(self, address: ClusterAddress, token: str | None):
        self.address = address
        self.connected = False
        self.generation = 0  # +1 per connect: what the driver put or created before belongs to an older one
        self.lock = threading.Lock()
        use_token(token)
        for key, value in CLIENT_ENV_DEFAULTS.items():
            os.environ.setdefault(key, value)
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

    def ensure(self) -> Any:
        """The ``ray`` module, connected (to the same cluster as before, see ``_check_same_cluster``)."""
        with self.lock:
            ray = import_ray()
            if self.connected and _initialized(ray):
                self._check_same_cluster(ray)
            else:
                self._connect(ray)
            return ray

    def _check_same_cluster(self, ray: Any) -> None:
        """A local-head driver (a Ray core worker) whose head went away or restarted must not touch
        Ray again: Ray's core aborts the process at its next cluster call (WrongClusterID; a failed
        check in GlobalStateAccessor), so an idle driver crashed on its next job and cost that job an
        attempt. One GCS call (~4 ms) before each op finds out first: a head that is back (a new
        cluster at the same address) is connected to again here (shutdown and init: measured to
        work in the same process), a head that is gone is CLUSTER_UNREACHABLE (the job waits). Ray
        Client drivers (ray://) reconnect by themselves and are not checked here."""
        if self.address.client:
            return
        try:
            ray._private.worker.global_worker.gcs_client.internal_kv_get(b"sfa-check", None, timeout=GCS_CHECK_TIMEOUT_S)
            return
        except Exception as exc:  # noqa: BLE001 - whatever it is, this connection is not usable
            self.connected = False
            if not _tcp_open(self.address):
                raise ClusterUnreachableError(
                    f"the Ray cluster at {self.address.text} cannot be reached ({type(exc).__name__}); "
                    "check that its head is running") from None
        self._connect(ray)

    def _connect(self, ray: Any) -> None:
        self.connected = False
        _probe_tcp(self.address)
        if _initialized(ray):
            ray.shutdown()
        runtime_env = {"py_modules": [PACKAGE_DIR], "excludes": ["__pycache__", "*.pyc"]}
        common = dict(namespace="sfa", runtime_env=runtime_env, logging_level="WARNING", log_to_driver=False)
        try:
            if self.address.client:
                _probe_client(f"{self.address.text[len('ray://'):]}")
                ray.init(self.address.text, **common)
            else:
                _keep_loopback()
                gcs = f"{'127.0.0.1' if self.address.host == 'localhost' else self.address.host}:{self.address.port}"
                _probe_gcs(gcs)
                ray.init(address=gcs, _node_ip_address="127.0.0.1", **common)
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
        self.generation += 1

    def lost(self) -> None:
        """Forget the connection (the next ``ensure`` connects again)."""
        with self.lock:
            self.connected = False
            try:
                import ray  # noqa: PLC0415

                ray.shutdown()
            except Exception:  # noqa: BLE001 - the connection is gone already
                pass
