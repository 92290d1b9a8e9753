"""Flow control: how many requests the apiserver serves at once (the max-in-flight limits), decided
the same for every front door."""
