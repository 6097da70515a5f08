"""Published case studies as data plus the functions that recompute them."""
