"""The batch engine: one kernel and one client for many reports, each report in a clean
namespace, the notebook written once; and report charts that keep the banner inside."""

from __future__ import annotations

import io

import matplotlib
import nbformat
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from botrygt_eval.plots.style import mark_simulated  # noqa: E402

# a template that fails when it sees what an earlier report left behind
CELLS = [
    ("x = 0", ["parameters"]),
    ("import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
     "assert 'leftover' not in globals(), 'the previous report left its variables'\n"
     "assert not plt.get_fignums(), 'the previous report left its figures open'\n"
     "leftover = x\nfig = plt.figure()\nprint(x)", []),
]  # fmt: skip


@pytest.fixture
def template(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src, metadata={"tags": tags}) for src, tags in CELLS]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = tmp_path / "template.ipynb"
    nbformat.write(nb, path)
    return path


def test_reports_share_one_client_start_clean_and_are_written_once(template, tmp_path,
                                                                   monkeypatch):  # fmt: skip
    import papermill.engines
    import papermill.execute

    from botrygt_eval.privacy.sandbox import report_sandbox, start_kernel
    from botrygt_eval.reports.engine import KernelSession, execute_template
    from botrygt_eval.reports.render import kernel_name

    writes = []
    for module in (papermill.execute, papermill.engines):
        real = module.write_ipynb
        monkeypatch.setattr(module, "write_ipynb",
                            lambda nb, path, real=real: writes.append(path) or real(nb, path))  # fmt: skip
    out = tmp_path / "out"
    with report_sandbox(out) as sandbox:
        session = KernelSession(start_kernel(kernel_name(), sandbox))
        try:
            clients = []
            for x in (1, 2, 3):
                nb = execute_template(template, out / f"r{x}.ipynb", {"x": x}, session,
                                      kernel_name(), out)  # fmt: skip
                clients.append(session.client())
                assert nb.cells[-1].outputs[0]["text"] == f"{x}\n"
        finally:
            session.shutdown()
    assert clients[0] is clients[1] is clients[2]
    assert writes == [str(out / f"r{x}.ipynb") for x in (1, 2, 3)]  # once per report
    assert nbformat.read(out / "r3.ipynb", as_version=4).cells[-1].outputs[0]["text"] == "3\n"


def test_without_the_reset_a_reused_kernel_would_leak(template, tmp_path):
    """The check in the template can fail: a second run on a kernel not reset fails."""
    import papermill as pm

    from botrygt_eval.privacy.sandbox import report_sandbox, start_kernel
    from botrygt_eval.reports.engine import KernelSession, execute_template
    from botrygt_eval.reports.render import kernel_name

    out = tmp_path / "out"
    with report_sandbox(out) as sandbox:
        session = KernelSession(start_kernel(kernel_name(), sandbox))
        try:
            execute_template(template, out / "a.ipynb", {"x": 1}, session, kernel_name(), out)
            session.used = False  # pretend it is fresh: no reset
            with pytest.raises(pm.PapermillExecutionError, match="left its variables"):
                execute_template(template, out / "b.ipynb", {"x": 2}, session, kernel_name(), out)
        finally:
            session.shutdown()
    assert "left its variables" in (out / "b.ipynb").read_text(encoding="utf-8")  # written


def _charts():
    """A chart of each kind the reports save: constrained layout, tight_layout() once,
    no layout, and a colorbar made without a layout engine."""
    a, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
    b, bx = plt.subplots(figsize=(8, 4.2))
    c, cx = plt.subplots(figsize=(7, 4))
    d, dx = plt.subplots(figsize=(6, 5))
    d.colorbar(dx.imshow(np.arange(12.0).reshape(3, 4)), ax=dx)
    for axis in (ax, bx, cx, dx):
        axis.plot([0, 1], [0, 1])
        axis.set_title("En titel øverst")
        axis.set_xlabel("x")
    b.tight_layout()
    return [a, b, c, d]


@pytest.mark.parametrize("which", range(4))
def test_the_banner_is_inside_the_figure_and_above_the_chart(which):
    fig = _charts()[which]
    mark_simulated(fig)
    fig.savefig(io.BytesIO())  # laid out as saved, without a tight bounding box
    renderer = fig.canvas.get_renderer()
    banner = fig.texts[-1].get_bbox_patch().get_window_extent(renderer)
    canvas = fig.bbox
    assert canvas.x0 <= banner.x0 and banner.x1 <= canvas.x1
    assert canvas.y0 <= banner.y0 and banner.y1 <= canvas.y1 + 1e-6
    for ax in fig.axes:  # titles, labels and colorbars stay under the banner, and inside
        box = ax.get_tightbbox(renderer)
        assert box.y1 <= banner.y0 + 1, (which, box, banner)
        assert box.x0 >= canvas.x0 - 1 and box.x1 <= canvas.x1 + 1 and box.y0 >= canvas.y0 - 1
    plt.close("all")
