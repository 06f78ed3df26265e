"""The same endpoints written idiomatically for each framework under comparison."""
