"""From traces to operations: significance, fusion and clustering."""
