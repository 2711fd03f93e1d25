"""The batch "spring cleaning": probabilistic record linkage of customers into duplicate
clusters with match probabilities, and their review."""
