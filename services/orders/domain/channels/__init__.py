"""One module per sales channel, each turning that platform's order into a CanonicalOrder."""
