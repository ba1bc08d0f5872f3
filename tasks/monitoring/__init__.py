"""The monitoring layer: drift of the served inputs and predictions against training, by effect size."""
