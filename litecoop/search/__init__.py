"""The search over schedule decisions: strategy registry, tree search, design space, proposers, prompts."""
