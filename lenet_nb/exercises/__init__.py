"""The exercise checkers: the shared checking machinery, then one module per chapter."""
