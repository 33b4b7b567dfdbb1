"""The lesson notebooks: their structure, and runs of them in a Jupyter kernel."""
