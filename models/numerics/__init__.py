"""Shared numerics below the families: linear algebra (least squares, ridge, the
preconditioned basis), and the logistic and softmax solvers with the separation linear
program.  NumPy and SciPy only; nothing here knows a family."""
