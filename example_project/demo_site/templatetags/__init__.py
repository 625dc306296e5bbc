"""Template tags of the demo site."""
