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

# Penalised least squares from one QR factor of [A y] (refined where its error estimate asks)
# against the 60-digit reference (tests/reference.py mp_lstsq): coefficients (norm-wise),
# RSS and covariance diagonal.  The solver's measured accuracy with refinement is <= 1e-10
# relative (see CLOSED_FORM_COEF_RTOL), so a failure means the factor's answer was accepted
# where it needed refinement.
FACTOR_SOLVE_RTOL = 1e-10

# Closed forms in double precision against mpmath at 50 digits (inverse-gamma moments of σ:
# measured 2e-14 at worst, nu = 19, for nu 3..1e8); also how closely the mpmath quadrature
# reference's two Gauss-Legendre orders must agree (a check on the reference itself).
MPMATH_REFERENCE_RTOL = 1e-13

# The quadrature's log σ grid scale against the Laplace curvature scale 1/sqrt(2n) of the
# σ posterior: equal up to O(p/n) (1e-5 at n = 10^6); 1% tells the curvature scale from
# any other width.
CURVATURE_SCALE_RTOL = 0.01
