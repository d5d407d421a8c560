"""Everything that is not GUI. Nothing in this package may import Qt."""
