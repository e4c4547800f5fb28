"""Test-side tolerance tiers, each with its source (the report's tiers live in
``analyses.tolerances``; these add the accuracy the project promises to users).
"""

# Promised accuracy of the closed forms (README, issue #2 acceptance): at least 7 correct
# significant digits for OLS coefficients and 6 for their standard errors, on designs with
# scaled condition numbers up to ~1e10.  Measured on the designs in tests/reference.py:
# <= 1e-10 relative (refined QR), so a failure means the solver lost its refinement.
CLOSED_FORM_COEF_RTOL = 1e-7
CLOSED_FORM_SE_RTOL = 1e-6

# Promised accuracy of find_MAP: 6 significant digits (issue #2 acceptance), which is also
# analyses.tolerances.OPTIMISER_RTOL (derived there from the optimiser's ftol).
FIND_MAP_RTOL = 1e-6

# The exact posterior by quadrature vs the closed-form Student t: trapezoid rule on >= 4001
# points in log sigma (curvature scale) converges geometrically;
# analyses.tolerances.QUADRATURE_RTOL.
QUADRATURE_RTOL = 1e-8

# Two float64 evaluations of one sum of n terms: 16·n·ε relative (Higham, *Accuracy and
# Stability of Numerical Algorithms*, §4.2); = analyses.tolerances.ARITH_C · ε.
ARITH_RTOL = 16 * 2.220446049250313e-16

# Monte Carlo: within 4 standard errors (two-sided false alarm 6e-5 per comparison);
# = analyses.tolerances.MCSE_Z.
MCSE_Z = 4.0
