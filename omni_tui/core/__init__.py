"""The domain: workspace, diffs, proposals, the gate, rebuilds, processes. Imports no Textual."""
