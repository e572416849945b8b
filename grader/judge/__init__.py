"""The trusted judge: runs hidden tests in pytest and asks the sandboxed worker for answers."""
