"""The cluster backend's Python side: the sidecar in ``--cluster`` mode runs its ops on Ray.

``python -m sfa_sidecar --cluster`` is a *cluster driver*: the same JSON-lines protocol and
request loop (server.py) as a local sidecar, serving ``separate``, ``analyze`` (same params, same
results plus a ``cluster`` key), ``cluster_status`` and ``ping``. The engine starts drivers
instead of local sidecars for its processing and analysis pools when a cluster address is set
(the SQLite scheduler stays the source of truth; see /work CLUSTER-INTERFACE / docs/ARCHITECTURE.md).

Modules:
  address.py     which addresses are accepted (ray://HOST:PORT, 127.0.0.1:PORT, localhost:PORT),
                 the same rule as src/shared/patterns.ts CLUSTER_ADDRESS
  connection.py  lazy connect (the hello goes out first), token, timeouts, error mapping, reconnect
  driver.py      the ops: read inputs, ship them by value, relay progress/cancel, write outputs
  actors.py      what runs on the cluster: warm separation/analysis actors around runner.py/analyze.py
  local.py       a loopback multi-node cluster for tests and benchmarks

Environment: SFA_RAY_ADDRESS (required), SFA_RAY_TOKEN (optional), SFA_CLUSTER_THREADS (optional:
CPUs reserved by, and torch threads of, a CPU separation actor).

Data path: no shared filesystem. The driver reads the audio (and a local model repo's files, sent
once per actor and cached there by content digest) and puts them in Ray's object store; the
actor writes them to its own temp folder, runs the unchanged local op there, and returns data
only (the result dict and the stem files' bytes). The driver validates the file names (the local
writer's ``<stem>.<wav|flac|mp3>``, no separators) and writes them into ``outDir`` as
``.<name>.part`` files renamed into place only when all are complete, so a cancel or a failure
leaves nothing partial. Models other than a repo's (e.g. ``htdemucs`` from the hub cache) must be
installed on the nodes (the nodes need the sidecar's Python dependencies anyway: torch, demucs,
librosa, soundfile, imageio-ffmpeg, and ray of the same version). The code itself reaches the
nodes through ``runtime_env={"py_modules": [sfa_sidecar]}``.

Errors: our own codes raised on the actor (NOT_AUDIO, DECODE_FAILED, OUT_OF_MEMORY, BAD_REQUEST,
CANCELLED...) come back as data and keep code and message. Ray's failures: a dead actor, worker or
node (RayActorError incl. ActorDiedError/ActorUnavailableError, NodeDiedError, ObjectLostError,
WorkerCrashedError) -> NODE_LOST, and the actor is dropped so the next request creates a new one
on a live node; but when the head itself no longer answers, -> CLUSTER_UNREACHABLE; connecting
fails or the connection is lost -> CLUSTER_UNREACHABLE (the connection is reset; the next op
connects again); a refused token -> CLUSTER_AUTH; a refused address -> CLUSTER_ADDRESS.

Progress: the actor is threaded; the driver polls ``actor.progress(job)`` every 0.2 s while it
waits for the result (works the same through Ray Client, unlike streaming generators) and sends
changes as ordinary progress messages; the first names the node:
``running on node <ip> (<nodeId[:8]>)``. Cancel: ``actor.cancel(job)`` (the op raises at its next
check) plus ``ray.cancel(ref)``; the driver waits (bounded) for the actor to let go and answers
CANCELLED; nothing is written.

Token authentication (Ray 2.60, read in ray/_private/authentication/*.py and ray/scripts/scripts.py):
Ray's token mode is switched on by the environment variable ``RAY_AUTH_MODE=token`` (it may not be
set through ``_system_config``), on every node (``ray start``) and every driver/client. The token
comes, in this order, from ``RAY_AUTH_TOKEN``, the file named by ``RAY_AUTH_TOKEN_PATH``, or
``~/.ray/auth_token`` (``ray get-auth-token --generate`` writes one); gRPC calls then carry it and
the servers compare it (``validate_authentication_token``); a mismatch raises
``ray.exceptions.AuthenticationError``. Beware: with RAY_AUTH_MODE unset, ``ray start`` turns token
mode on by itself when ~/.ray/auth_token exists. The driver sets RAY_AUTH_MODE=token and
RAY_AUTH_TOKEN from SFA_RAY_TOKEN before Ray is imported (never logged); without SFA_RAY_TOKEN the
user's own RAY_AUTH_* setup applies. Token auth authenticates, it does not encrypt: a Ray cluster
belongs on a private network (Ray's own advice), and the driver accepts only data back from it.
"""
