"""The notebooks run top to bottom on the demo data (nbclient, ipykernel over IPC) and draw their figures."""

import json
import os
import tempfile
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from fixtures_analytics import DEMO_TZ

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
# figures each notebook must draw (image/png outputs), and words its tables must show
EXPECTED = {
    "per_day_stats.ipynb": (3, ["7-day mean", "received", "median_reply"]),
    "login_activity.ipynb": (2, ["throttled", "198.51.100.23", "login_failed"]),
}


def execute(path: Path):
    notebook = nbformat.read(path, as_version=4)
    # IPC sockets live at "<ip>-<port>": a short folder keeps them under the 107-byte limit
    with tempfile.TemporaryDirectory(prefix="nb-") as sockets:
        manager = KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(sockets, "k"))
        NotebookClient(notebook, km=manager, timeout=180, allow_errors=False,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    return notebook


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs_on_the_demo_data(name, demo_dir, monkeypatch):
    monkeypatch.setenv("CHATKIT_DATA_DIR", str(demo_dir))
    monkeypatch.setenv("CHATKIT_TZ", DEMO_TZ)
    notebook = execute(NOTEBOOKS / name)  # raises CellExecutionError on any failing cell
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    figures, words = EXPECTED[name]
    assert sum("image/png" in out.get("data", {}) for out in outputs) == figures
    text = "\n".join(out.get("text", "") + out.get("data", {}).get("text/plain", "") for out in outputs)
    for word in words:
        assert word in text
    assert str(demo_dir) in text  # it read the data dir it was pointed at


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_is_committed_clean(name):
    raw = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    cells = raw["cells"]
    assert cells[0]["cell_type"] == "markdown"
    intro = "".join(cells[0]["source"])
    assert "What this shows" in intro and "CHATKIT_DATA_DIR" in intro
    for cell in cells:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
            source = "".join(cell["source"])
            # only chatkit.analytics talks to the databases
            assert "sqlite3" not in source and "read_sql" not in source and "chatkit.client" not in source
