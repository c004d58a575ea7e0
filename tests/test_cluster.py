"""`netopt robustness` on real Dask clusters (issue 17).

Each test starts what it needs as subprocesses on 127.0.0.1 (``dask scheduler``
and ``dask worker``, free ports, TLS with throwaway certificates made here) and
tears it down at the end. The reference is a run on a LocalCluster of one
worker: every other run (two local workers, a tcp:// scheduler with two
workers, a tls:// one, a run that loses a worker) must write the same bytes.
Tiny runs (a few samples, the fast demand fixture) keep this to about a minute.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import ROOT, SCENARIOS

SAMPLES = 6
SEED = 5
#: Seconds a scheduler or worker gets to start.
START_TIMEOUT = 60
ENV = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), "PYTHONUNBUFFERED": "1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def robustness_argv(out: Path, demand: Path, *extra, samples: int = SAMPLES) -> list[str]:
    return [sys.executable, "-m", "netopt", "robustness", str(SCENARIOS / "cut-2027.toml"), "--samples", str(samples), "--seed", str(SEED),
            "--demand", str(demand), "--out", str(out), *map(str, extra)]


def run_cli(argv: list[str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def same_files(a: Path, b: Path) -> None:
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert "map.html" in names and "samples.csv" in names
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


class Cluster:
    """A ``dask scheduler`` and ``dask worker`` processes (``python -m dask`` of this Python; no nanny: a killed worker stays dead)."""

    def __init__(self, tmp: Path, *, workers: int, tls: dict | None = None, worker_env: dict | None = None):
        self.tmp = tmp
        self.procs: list[subprocess.Popen] = []
        self.workers: list[subprocess.Popen] = []
        tls_args = [a for k, v in (tls or {}).items() for a in (f"--{k}", str(v))]
        protocol = "tls" if tls else "tcp"
        port = free_port()
        self.address = f"{protocol}://127.0.0.1:{port}"
        self.log = open(tmp / "cluster.log", "w", encoding="utf-8")
        self._start(["scheduler", "--host", "127.0.0.1", "--port", str(port), "--protocol", protocol, "--no-dashboard", *tls_args])
        self._wait_for_port(port)
        for _ in range(workers):
            self.workers.append(self._start(["worker", self.address, "--nthreads", "1", "--no-nanny", "--no-dashboard", "--host", "127.0.0.1",
                                             "--death-timeout", "60", *tls_args], worker_env))
        self._wait_for_workers(workers, tls)

    def _start(self, args: list[str], env: dict | None = None) -> subprocess.Popen:
        p = subprocess.Popen([sys.executable, "-m", "dask", *args], env=env or ENV, cwd=self.tmp,
                             stdout=self.log, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def _wait_for_port(self, port: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.2)
        raise AssertionError(f"the scheduler did not start: {(self.tmp / 'cluster.log').read_text()}")

    def _wait_for_workers(self, n: int, tls: dict | None) -> None:
        from distributed import Client
        from distributed.security import Security

        security = Security(tls_ca_file=str(tls["tls-ca-file"]), tls_client_cert=str(tls["tls-cert"]), tls_client_key=str(tls["tls-key"]),
                            require_encryption=True) if tls else None
        with Client(self.address, security=security, timeout=START_TIMEOUT, set_as_default=False) as client:
            client.wait_for_workers(n, timeout=START_TIMEOUT)

    def close(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.log.close()


@pytest.fixture
def cluster(tmp_path):
    made = []

    def start(**kw) -> Cluster:
        c = Cluster(tmp_path, **kw)
        made.append(c)
        return c

    yield start
    for c in made:
        c.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory, fast_demand):
    """The run on a LocalCluster of one worker process: every other run must write these bytes."""
    out = tmp_path_factory.mktemp("reference") / "out"
    res = run_cli(robustness_argv(out, fast_demand, "--workers", 1))
    assert res.returncode == 0, res.stderr
    assert "1 worker, one thread each" in res.stderr
    return out


def test_two_local_workers_write_the_same_bytes(reference, fast_demand, tmp_path):
    res = run_cli(robustness_argv(tmp_path / "out", fast_demand, "--workers", 2))
    assert res.returncode == 0, res.stderr
    assert "2 workers" in res.stderr and f"{SAMPLES}/{SAMPLES} samples" in res.stderr
    same_files(reference, tmp_path / "out")


def test_a_tcp_scheduler_with_two_workers_writes_the_same_bytes(reference, fast_demand, tmp_path, cluster):
    c = cluster(workers=2)
    res = run_cli(robustness_argv(tmp_path / "out", fast_demand, "--cluster", c.address))
    assert res.returncode == 0, res.stderr
    assert f"the Dask scheduler at {c.address} (2 workers)" in res.stderr
    same_files(reference, tmp_path / "out")


def test_a_worker_killed_mid_run_has_its_samples_rerun(reference, fast_demand, tmp_path, cluster):
    c = cluster(workers=2)
    proc = subprocess.Popen(robustness_argv(tmp_path / "out", fast_demand, "--cluster", c.address), env=ENV, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = bytearray()
    reader = threading.Thread(target=lambda: [err.extend(chunk) for chunk in iter(lambda: proc.stderr.read1(256), b"")], daemon=True)
    reader.start()
    deadline = time.monotonic() + 240
    while f"] 1/{SAMPLES} samples".encode() not in err:  # the samples are under way, one in flight on each worker
        assert proc.poll() is None and time.monotonic() < deadline, err.decode()
        time.sleep(0.05)
    victim = c.workers[0]
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=20)
    out, _ = proc.communicate(timeout=300)
    reader.join(timeout=10)
    assert proc.returncode == 0, err.decode()
    assert victim.returncode == -signal.SIGKILL and c.workers[1].poll() is None
    same_files(reference, tmp_path / "out")


def test_ctrl_c_stops_the_run_and_leaves_nothing(fast_demand, tmp_path):
    out = tmp_path / "runs" / "out"
    out.parent.mkdir()
    proc = subprocess.Popen(robustness_argv(out, fast_demand, "--workers", 1, samples=200), env=ENV, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = bytearray()
    reader = threading.Thread(target=lambda: [err.extend(chunk) for chunk in iter(lambda: proc.stderr.read1(256), b"")], daemon=True)
    reader.start()
    deadline = time.monotonic() + 240
    while b"] 1/200 samples" not in err:
        assert proc.poll() is None and time.monotonic() < deadline, err.decode()
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=120)
    reader.join(timeout=10)
    text = err.decode()
    assert proc.returncode == 130, text
    assert "interrupted; nothing was written" in text and "Traceback" not in text
    assert list(out.parent.iterdir()) == []  # no folder, no temporary folder beside it


def test_the_run_refuses_a_worker_with_other_netopt_code(fast_demand, tmp_path, cluster):
    other = tmp_path / "other"
    shutil.copytree(ROOT / "netopt", other / "netopt", ignore=shutil.ignore_patterns("__pycache__"))
    with open(other / "netopt" / "metrics.py", "a", encoding="utf-8") as fh:
        fh.write("\n# a local change\n")
    c = cluster(workers=1, worker_env={**ENV, "PYTHONPATH": str(other)})
    res = run_cli(robustness_argv(tmp_path / "out", fast_demand, "--cluster", c.address))
    assert res.returncode == 2, res.stderr
    assert "with other source files" in res.stderr and "Fix: install the same netopt on every worker" in res.stderr
    assert "Traceback" not in res.stderr and not (tmp_path / "out").exists()


def test_an_unreachable_scheduler_is_a_clear_error(netopt_cli, fast_demand, tmp_path):
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    t0 = time.monotonic()
    res = netopt_cli("robustness", SCENARIOS / "cut-2027.toml", "--samples", 2, "--demand", fast_demand, "--out", tmp_path / "out",
                     "--cluster", address, "--cluster-timeout", 2)
    assert res.code == 2, res.text
    assert f"cannot reach the Dask scheduler at {address} within 2 s" in res.err and "Fix:" in res.err and "Traceback" not in res.text
    assert time.monotonic() - t0 < 60 and not (tmp_path / "out").exists()


def test_cluster_options_are_checked(netopt_cli, fast_demand, tmp_path):
    def run(*extra):
        return netopt_cli("robustness", SCENARIOS / "cut-2027.toml", "--samples", 2, "--demand", fast_demand, "--out", tmp_path / "out", *extra)

    res = run("--cluster", "127.0.0.1:8786")
    assert res.code == 2 and "tcp://HOST:PORT or tls://HOST:PORT" in res.err
    res = run("--cluster", "tcp://127.0.0.1:8786", "--workers", 2)
    assert res.code == 2 and "leave out --workers" in res.err
    res = run("--tls-ca-file", tmp_path / "ca.pem")
    assert res.code == 2 and "are for a tls:// scheduler address" in res.err
    res = run("--cluster", "tls://127.0.0.1:8786", "--tls-ca-file", tmp_path / "missing.pem", "--tls-cert", tmp_path / "c.pem", "--tls-key", tmp_path / "k.pem")
    assert res.code == 2 and "missing.pem: file not found" in res.err
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- TLS


def make_certificates(folder: Path) -> dict:
    """A throwaway CA and one certificate (127.0.0.1, server and client use)
    signed by it, as PEM files: the scheduler, the workers and the client share it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "netopt test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1)).add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    files = {"tls-ca-file": folder / "ca.pem", "tls-cert": folder / "cert.pem", "tls-key": folder / "key.pem"}
    files["tls-ca-file"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["tls-cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files["tls-key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return files


def test_a_tls_scheduler_writes_the_same_bytes_and_needs_the_certificates(reference, fast_demand, tmp_path, cluster, netopt_cli):
    certs = make_certificates(tmp_path)
    c = cluster(workers=1, tls=certs)
    assert c.address.startswith("tls://")
    res = run_cli(robustness_argv(tmp_path / "out", fast_demand, "--cluster", c.address, *[a for k, v in certs.items() for a in (f"--{k}", v)]))
    assert res.returncode == 0, res.stderr
    same_files(reference, tmp_path / "out")

    # the same with Dask's own configuration instead of the options
    config = {"DASK_DISTRIBUTED__COMM__TLS__CA_FILE": str(certs["tls-ca-file"]), "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT": str(certs["tls-cert"]),
              "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY": str(certs["tls-key"])}
    res = subprocess.run(robustness_argv(tmp_path / "out2", fast_demand, "--cluster", c.address), env={**ENV, **config}, cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    same_files(reference, tmp_path / "out2")

    # without certificates: a clear error, exit 2
    res = netopt_cli("robustness", SCENARIOS / "cut-2027.toml", "--samples", 2, "--demand", fast_demand, "--out", tmp_path / "out3", "--cluster", c.address)
    assert res.code == 2, res.text
    assert "needs certificates" in res.err and "--tls-ca-file" in res.err and "Traceback" not in res.text
