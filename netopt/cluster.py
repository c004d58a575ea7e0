"""Where many solves run: a Dask cluster (Dask distributed), never a home-made pool.

:func:`connect` gives a ``distributed.Client``:

* by default a ``LocalCluster`` on this machine: one worker process per core
  (``workers``), each with one thread, so one single-threaded solver per core;
* ``address = "tcp://HOST:PORT"``: an existing Dask scheduler (``dask
  scheduler``) with its workers (``dask worker``);
* ``address = "tls://HOST:PORT"``: the same over TLS, with the planner's
  certificates (``tls_ca_file``, ``tls_cert``, ``tls_key``) or Dask's own
  configuration (``distributed.comm.tls.*``).

:func:`run_ordered` sends one task per item to the cluster, the shared inputs
once (``Client.scatter``, broadcast to every worker), and returns the results
in item order whatever order they finish in. A worker that dies has its tasks
rerun on the others (Dask's scheduler does this); a scheduler that cannot be
reached, workers with another netopt, or a task lost with too many workers
raise :class:`ClusterError` (exit code 2).

Workers must import the same netopt: :func:`check_workers` compares every
worker's ``netopt.__version__`` and :func:`package_fingerprint` (a digest of
netopt's Python sources) with this process's and refuses a mismatch; each
task checks again, for workers that join later.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import NetoptError

__all__ = ["ClusterSettings", "ClusterError", "connect", "run_ordered", "check_workers", "package_fingerprint", "local_cores", "worker_identity"]

log = logging.getLogger("netopt.cluster")

#: Address schemes netopt connects to.
SCHEMES = ("tcp://", "tls://")


class ClusterError(NetoptError, RuntimeError):
    """The Dask cluster cannot run the work: unreachable, no workers, another netopt, lost work."""

    exit_code = 2


@dataclass(frozen=True, kw_only=True)
class ClusterSettings:
    """Where to run.

    ``address`` None starts a ``LocalCluster`` of ``workers`` processes (default:
    the cores this process may use), each one thread (``processes=False`` runs
    the workers as threads of this process instead, for quick tests); else the
    scheduler's ``tcp://`` or ``tls://`` address. The TLS files (PEM) are the
    CA that signed the scheduler's certificate and this client's certificate
    and key; None takes Dask's configuration (``distributed.comm.tls.ca-file``,
    ``distributed.comm.tls.client.cert``, ``distributed.comm.tls.client.key``).
    ``timeout_s``: how long to try to reach the scheduler and to wait for a worker.
    """

    address: str | None = None
    workers: int | None = None
    processes: bool = True
    tls_ca_file: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    timeout_s: float = 10.0

    def describe(self, n_workers: int | None = None) -> str:
        """Where the work runs, in words (for the terminal, never for the output files)."""
        n = f"{n_workers} worker{'s' if n_workers != 1 else ''}" if n_workers is not None else "workers"
        if self.address is None:
            return f"a Dask LocalCluster on this machine ({n}, one thread each)"
        return f"the Dask scheduler at {self.address} ({n})"


def local_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@lru_cache(maxsize=1)
def package_fingerprint() -> str:
    """SHA-256 of netopt's Python sources (relative path and bytes of every ``.py``
    file of the package, sorted): equal only for the same code."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if "__pycache__" in rel:
            continue
        digest.update(rel.encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def worker_identity() -> tuple[str, str]:
    """(netopt version, source fingerprint) of this process."""
    from . import __version__

    return __version__, package_fingerprint()


def _probe():
    """What a worker has: run there by ``Client.run``. Defined inside a function
    so that it is sent by value and runs even where netopt cannot be imported."""

    def probe():
        try:
            from netopt.cluster import worker_identity
        except Exception as exc:  # noqa: BLE001 - any import failure is the answer
            return ("missing", f"{type(exc).__name__}: {exc}")
        return worker_identity()

    return probe


def _mismatch_message(where: str, theirs: tuple, ours: tuple) -> str:
    if theirs[0] == "missing":
        return (f"{where} cannot import netopt ({theirs[1]}). Fix: install the same netopt on every worker "
                f"(netopt {ours[0]}: pip install the same wheel or checkout), then restart the workers")
    if theirs[0] != ours[0]:
        what = f"netopt {theirs[0]}, this process netopt {ours[0]}"
    else:
        what = f"netopt {theirs[0]} with other source files (fingerprint {theirs[1][:12]}, here {ours[1][:12]})"
    return (f"{where} runs {what}: results could differ from a run here. Fix: install the same netopt on every worker "
            "(the same wheel or checkout) and restart them")


def check_workers(client) -> int:
    """Number of workers; :class:`ClusterError` if any has no netopt or another one."""
    ours = worker_identity()
    try:
        found = client.run(_probe())
    except Exception as exc:  # noqa: BLE001 - a worker's failure to run the probe
        raise ClusterError(f"could not ask the workers which netopt they have ({type(exc).__name__}: {exc}). Fix: check that every worker runs the same Python and netopt as this machine") from None
    bad = sorted((addr, tuple(v)) for addr, v in found.items() if tuple(v) != ours)
    if bad:
        addr, theirs = bad[0]
        more = f" (and {len(bad) - 1} more {'worker' if len(bad) == 2 else 'workers'})" if len(bad) > 1 else ""
        raise ClusterError(_mismatch_message(f"the worker at {addr}{more}", theirs, ours))
    return len(found)


def _security(settings: ClusterSettings):
    from distributed.security import Security

    files = {"--tls-ca-file": settings.tls_ca_file, "--tls-cert": settings.tls_cert, "--tls-key": settings.tls_key}
    given = {k: v for k, v in files.items() if v}
    if given and not (settings.address or "").startswith("tls://"):
        raise ClusterError(f"{', '.join(given)} are for a tls:// scheduler address, not {settings.address or 'a LocalCluster'}. "
                           "Fix: give --cluster tls://HOST:PORT, or leave the TLS options out")
    for option, path in given.items():
        if not Path(path).is_file():
            raise ClusterError(f"{option} {path}: file not found. Fix: give the path of a PEM file")
    if not (settings.address or "").startswith("tls://"):
        return None
    if given:
        return Security(tls_ca_file=settings.tls_ca_file, tls_client_cert=settings.tls_cert, tls_client_key=settings.tls_key, require_encryption=True)
    sec = Security(require_encryption=True)  # Dask's configuration (distributed.comm.tls.*)
    if not sec.tls_ca_file:
        raise ClusterError(f"{settings.address}: a tls:// scheduler needs certificates, and neither --tls-ca-file/--tls-cert/--tls-key "
                           "nor Dask's configuration (distributed.comm.tls.ca-file, .client.cert, .client.key) gives them. "
                           "Fix: pass the three PEM files (docs/robustness.md)")
    return sec


@contextmanager
def connect(settings: ClusterSettings) -> Iterator:
    """A ``distributed.Client`` for ``settings``, closed (and a LocalCluster
    shut down) on leaving, also on an error or Ctrl-C.

    Raises:
      ClusterError: a bad address, missing TLS files, a scheduler that cannot be
        reached within ``timeout_s``, no worker within ``timeout_s``, or
        workers with another netopt.
    """
    dask_log = logging.getLogger("distributed")
    level = dask_log.level
    try:
        with _connect(settings) as client:
            try:
                yield client
            except KeyboardInterrupt:
                # Ctrl-C: the client and a LocalCluster close with tasks still
                # running, and Dask logs every connection it finds closed, with
                # tracebacks; the planner asked for it, so that shutdown is quiet
                dask_log.setLevel(logging.CRITICAL + 1)
                raise
    finally:
        dask_log.setLevel(level)


@contextmanager
def _connect(settings: ClusterSettings) -> Iterator:
    from distributed import Client, LocalCluster

    address = settings.address
    if address is not None and not address.startswith(SCHEMES):
        raise ClusterError(f"--cluster {address}: not a Dask scheduler address. Fix: write tcp://HOST:PORT or tls://HOST:PORT")
    security = _security(settings)
    if address is None:
        n = settings.workers or local_cores()
        # dashboard_address ":0": the scheduler's HTTP server on a free port, never
        # a clash with another cluster on 8787
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=settings.processes, dashboard_address=":0",
                               silence_logs=logging.ERROR)
        try:
            with Client(cluster, set_as_default=False) as client:
                check_workers(client)
                yield client
        finally:
            cluster.close()
        return
    try:
        client = Client(address, security=security, timeout=settings.timeout_s, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address} within {settings.timeout_s:g} s ({exc}). "
                           "Fix: check that the scheduler runs (dask scheduler), the host and port, the firewall"
                           + (", and that the TLS certificates are the cluster's" if address.startswith("tls://") else "")) from None
    except TypeError as exc:  # Dask's message when a tls:// address has no TLS context
        raise ClusterError(f"{address}: cannot open a TLS connection ({exc}). Fix: pass --tls-ca-file, --tls-cert and --tls-key") from None
    try:
        try:
            client.wait_for_workers(1, timeout=settings.timeout_s)
        except (TimeoutError, OSError):
            raise ClusterError(f"the Dask scheduler at {address} has no worker (waited {settings.timeout_s:g} s). "
                               f"Fix: start workers with: dask worker {address}") from None
        check_workers(client)
        yield client
    finally:
        client.close()


def run_ordered(client, fn: Callable, shared, n: int, *, progress: Callable[[int, int], None] | None = None, name: str = "netopt") -> list:
    """``[fn(shared, k) for k in range(n)]``, run on the cluster.

    ``shared`` is sent once to every worker (``scatter``, broadcast); each
    task gets only its number. Results come back in the order of ``k``;
    ``progress(done, n)`` is called as each finishes. On an error or Ctrl-C the
    tasks still queued are cancelled.

    Raises:
      ClusterError: a task was lost because the workers running it died
        (Dask reruns it on another worker up to its ``allowed-failures``).
      Whatever ``fn`` raised, for the first task (by completion) that failed.
    """
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    token = uuid.uuid4().hex[:12]  # keys unique on a shared scheduler; not part of any result
    [shared_f] = client.scatter([shared], broadcast=True, hash=False)
    futures = [client.submit(fn, shared_f, k, key=f"{name}-{token}-{k}", pure=False) for k in range(n)]
    index = {f.key: k for k, f in enumerate(futures)}
    results: list = [None] * n
    done = 0
    try:
        for fut in as_completed(futures, loop=client.loop):
            try:
                value = fut.result()
            except KilledWorker as exc:
                raise ClusterError(f"task {index[fut.key]} was lost: the workers that ran it died ({exc}). "
                                   "Fix: check the workers' memory and logs (dask worker), then run again") from None
            results[index[fut.key]] = value
            done += 1
            if progress is not None:
                progress(done, n)
    finally:
        if done < n:
            client.cancel(futures, force=True)
        shared_f.release()
    return results
