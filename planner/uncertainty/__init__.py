"""How sure the answer is: uncertain inputs, Monte Carlo, sensitivity, robust plans."""
