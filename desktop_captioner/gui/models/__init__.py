"""Qt item models and the undo commands that edit them."""
