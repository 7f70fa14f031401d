"""Project-wide pytest configuration.

nbval: stderr is never compared (ipykernel under pytest does not capture what TensorFlow's C++
code writes to fd 2, so stored stderr would always be "missing"), and neither are widget views
(their model ids change every run) nor HTML twins of outputs whose text/plain is compared.
"""


def pytest_collectstart(collector):
    if getattr(collector, "path", None) is not None and collector.path.suffix == ".ipynb":
        collector.skip_compare += (
            "stderr",
            "text/html",
            "application/javascript",
            "application/vnd.jupyter.widget-view+json",
        )
