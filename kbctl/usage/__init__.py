"""Usage data (CONTRACT 7): events read and aggregated over a window, and the rules over them."""
