"""Request-level detectors of the runtime guard, one module per code family."""
