"""Keep report rendering inside the output folder: no history, caches or kernel files elsewhere.

A report kernel left to its defaults writes ``~/.ipython/profile_default/history.sqlite``
(every report's code and parameters), the matplotlib and fontconfig caches under
``~/.cache`` and ``~/.config``, and its connection file (holding the HMAC key that
signs kernel messages) in ``~/.local/share/jupyter/runtime``; an interrupted batch
leaves those behind. :func:`report_sandbox` makes one hidden working folder under the
output folder, points every such location there (IPYTHONDIR, MPLCONFIGDIR,
JUPYTER_RUNTIME_DIR, JUPYTER_DATA_DIR, XDG_CACHE_HOME, XDG_CONFIG_HOME, TMPDIR) for
this process and its kernels, and removes the folder on exit, also after an error or
an interrupt. :func:`start_kernel` starts a kernel over IPC (abstract Unix sockets on
Linux, socket files in the working folder elsewhere; never TCP) with IPython's history off.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: the environment variable naming the active working folder (inherited by batch workers)
SANDBOX_ENV = "BOTRYGT_KERNEL_SANDBOX"
SANDBOX_PREFIX = ".botrygt_kernel_"
#: arguments for every report kernel: no IPython history database at all
KERNEL_ARGUMENTS = ["--HistoryManager.enabled=False", "--HistoryManager.hist_file=:memory:"]
_LOCATIONS = {
    "IPYTHONDIR": "ipython",
    "MPLCONFIGDIR": "matplotlib",
    "JUPYTER_RUNTIME_DIR": "runtime",
    "JUPYTER_DATA_DIR": "jupyter_data",
    "XDG_CACHE_HOME": "cache",
    "XDG_CONFIG_HOME": "config",
    "TMPDIR": "tmp",
    "TEMP": "tmp",
    "TMP": "tmp",
}


def sandbox_environment(root: Path) -> dict[str, str]:
    """The environment variables pointing every cache and runtime location into ``root``."""
    env = {name: str(root / sub) for name, sub in _LOCATIONS.items()}
    env[SANDBOX_ENV] = str(root)
    return env


def active_sandbox() -> Path | None:
    """The working folder of the sandbox this process runs in (a batch worker's), if any."""
    root = os.environ.get(SANDBOX_ENV)
    return Path(root) if root and Path(root).is_dir() else None


@contextmanager
def report_sandbox(out: str | Path) -> Iterator[Path]:
    """Run the block with every cache and runtime location in a hidden folder under ``out``.

    Re-entrant: inside an active sandbox (a batch worker) it reuses it. The folder is
    removed and the environment restored on exit, whatever the exit.
    """
    current = active_sandbox()
    if current is not None:
        yield current
        return
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix=SANDBOX_PREFIX, dir=out))  # mode 0700
    env = sandbox_environment(root)
    for path in {env[name] for name in _LOCATIONS}:
        Path(path).mkdir(mode=0o700, exist_ok=True)
    saved = {name: os.environ.get(name) for name in env}
    saved_tempdir = tempfile.tempdir
    os.environ.update(env)
    tempfile.tempdir = None  # recomputed from TMPDIR on next use
    try:
        yield root
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        tempfile.tempdir = saved_tempdir
        shutil.rmtree(root, ignore_errors=True)


def start_kernel(kernel_name: str, root: Path, cwd: str | Path | None = None):
    """A started kernel (jupyter_client ``KernelManager``) over IPC with history off.

    Its connection file and sockets are in ``root/runtime``; shut it down with
    ``km.shutdown_kernel(now=True)``, which also removes them.
    """
    from jupyter_client.manager import KernelManager

    runtime = Path(root) / _LOCATIONS["JUPYTER_RUNTIME_DIR"]
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"kernel-{uuid.uuid4().hex[:12]}"
    km = KernelManager(kernel_name=kernel_name, transport="ipc",
                       connection_file=str(runtime / f"{name}.json"))  # fmt: skip
    if sys.platform.startswith("linux"):
        # abstract Unix sockets: nothing on disk, and no limit of ~107 characters on the
        # path (a socket file under a deep output folder would be refused); messages are
        # signed with the key in the connection file, which only this user can read
        km.ip = f"@botrygt-{name}"
    env = {**os.environ, **sandbox_environment(Path(root))}
    where = {} if cwd is None else {"cwd": str(cwd)}
    try:
        km.start_kernel(extra_arguments=list(KERNEL_ARGUMENTS), env=env, **where)
    except BaseException:
        if km.has_kernel:  # started but not reachable: do not leave it running
            km.shutdown_kernel(now=True)
        km.cleanup_resources()
        raise
    return km
