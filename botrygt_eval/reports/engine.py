"""Run report templates on a kernel that is kept between reports (papermill engine).

Papermill's default engine connects a new client to the kernel for every notebook
(~0.2 s waiting for IOPub), and saves the notebook before and after every cell (26
saves for a kommune report). A batch worker renders ~50 reports on one kernel, so
:class:`KernelSession` keeps one client per kernel, and :func:`execute_template` runs a
template through :class:`ReusedClientEngine`: the namespace reset of a reused kernel
goes through that same client just before the cells, and the notebook is written once
(papermill writes it at the end, also when a cell fails, with the error in it).
"""

from __future__ import annotations

from pathlib import Path

from botrygt_eval.errors import ReportError

ENGINE_NAME = "botrygt-reused-client"
#: clears a reused kernel: a report sees only its own parameters, variables and figures.
#: The figures are closed before ``%reset -f`` collects the garbage; what survives (modules,
#: their caches) is then frozen (``gc.freeze``), so that the next reset's collection, and the
#: collections while a report runs, do not walk the ~250,000 objects of the imported stack
#: again (0.1-0.4 s a reset).
RESET_CODE = (
    "import matplotlib.pyplot as _plt\n_plt.close('all')\ndel _plt\n"
    "%reset -f\nimport gc as _gc\n_gc.freeze()\ndel _gc"
)
TIMEOUT = 60


class KernelSession:
    """A started kernel (``jupyter_client`` ``KernelManager``) and one client connected to
    it, kept for every report the kernel runs. ``used``: whether a report ran on it (the
    next one must reset the namespace first)."""

    def __init__(self, km):
        self.km = km
        self.used = False
        self._kc = None

    def client(self):
        """The session's client, connected (and waited for) on first use."""
        if self._kc is None:
            kc = self.km.client()
            kc.start_channels()
            try:
                kc.wait_for_ready(timeout=TIMEOUT)
            except BaseException:
                kc.stop_channels()
                raise
            kc.allow_stdin = False
            self._kc = kc
        return self._kc

    def is_alive(self) -> bool:
        return bool(self.km.is_alive())

    def shutdown(self) -> None:
        """Shut the kernel down (removing its connection file) and close the client."""
        try:
            self.km.shutdown_kernel(now=True)
        finally:
            if self._kc is not None:
                self._kc.stop_channels()
                self._kc = None


def _register() -> None:
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.exceptions import PapermillException

    try:
        papermill_engines.get_engine(ENGINE_NAME)
        return  # registered already (the module's first report in this process did it)
    except PapermillException:
        pass

    class ReusedClientEngine(NBClientEngine):
        """nbclient, on a :class:`KernelSession`'s kernel and client; resets a used kernel."""

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, *, session: KernelSession,
                                     log_output=False, start_timeout=TIMEOUT,
                                     execution_timeout=None, **kwargs):  # fmt: skip
            from papermill.clientwrap import PapermillNotebookClient
            from papermill.log import logger

            client = PapermillNotebookClient(
                nb_man, km=session.km, kernel_name=kernel_name, log=logger,
                log_output=log_output, timeout=execution_timeout, startup_timeout=start_timeout,
                stdout_file=kwargs.get("stdout_file"), stderr_file=kwargs.get("stderr_file"),
            )  # fmt: skip
            client.kc = session.client()  # nbclient keeps a client it is given (km not owned)
            if session.used:
                _reset(client.kc)
            session.used = True
            return client.execute()

    papermill_engines.register(ENGINE_NAME, ReusedClientEngine)


def _reset(kc) -> None:
    """Clear the namespace in the same connection, waiting only for the shell reply."""
    reply = kc.execute(RESET_CODE, silent=True, store_history=False, reply=True, timeout=TIMEOUT)
    if reply["content"]["status"] != "ok":
        raise ReportError(
            f"could not reset the report kernel: {reply['content'].get('evalue')}; "
            "render the report again (a new kernel is started for it)"
        )


def execute_template(template: Path, notebook: Path, parameters: dict, session: KernelSession,
                     kernel_name: str, cwd: Path):  # fmt: skip
    """Execute ``template`` with ``parameters`` into ``notebook`` on ``session``'s kernel.

    The notebook is written once, when the run ends (papermill raises
    ``PapermillExecutionError`` after writing it when a cell failed).
    """
    import papermill as pm

    _register()
    return pm.execute_notebook(str(template), str(notebook), parameters=parameters,
                               engine_name=ENGINE_NAME, request_save_on_cell_execute=False,
                               kernel_name=kernel_name, cwd=str(cwd), progress_bar=False,
                               log_output=False, session=session)  # fmt: skip
