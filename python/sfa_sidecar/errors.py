"""Typed errors that cross the protocol: each has a stable code the engine maps to a user message."""


class SidecarError(Exception):
    """An error with a code the engine understands. The message must tell the user what to do."""

    code = "SIDECAR_ERROR"

    def __init__(self, message: str, code: str | None = None, detail: dict | None = None):
        super().__init__(message)
        if code:
            self.code = code
        self.detail = detail or {}


class NotAudioError(SidecarError):
    code = "NOT_AUDIO"


class FileMissingError(SidecarError):
    code = "FILE_NOT_FOUND"


class BadRequestError(SidecarError):
    code = "BAD_REQUEST"


class CancelledError(SidecarError):
    code = "CANCELLED"

    def __init__(self, message: str = "cancelled by request"):
        super().__init__(message)


class DecodeError(SidecarError):
    code = "DECODE_FAILED"


class ClusterUnreachableError(SidecarError):
    """The Ray cluster cannot be reached (jobs wait for it)."""

    code = "CLUSTER_UNREACHABLE"


class RayMissingError(SidecarError):
    """Ray is not installed in this Python environment: the job waits for the install (no attempt
    spent); a running driver imports Ray at its next op once it is there."""

    code = "CLUSTER_NO_RAY"


class ClusterAuthError(SidecarError):
    """The cluster refused our token (or wants one we do not have)."""

    code = "CLUSTER_AUTH"


class ClusterAddressError(SidecarError):
    code = "CLUSTER_ADDRESS"


class NodeLostError(SidecarError):
    """The node (or the actor's process) running the job died; the engine retries elsewhere."""

    code = "NODE_LOST"
