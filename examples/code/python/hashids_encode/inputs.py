import random

# (salt, min_length, alphabet, separators, guards) as hashids.Hashids(salt, min_length) prepares them
SETUPS = [
    ("", 0, "gjklmnopqrvwxyzABDEGJKLMNOPQRVWXYZ1234567890", "cfhistuCFHISTU", "abde"),
    ("this is my salt", 0, "5N6y2rljDQak4xgzn8ZR1oKYLmJpEbVq3OBv9WwXPMe7", "UHuhtcITCsFifS", "AdG0"),
    ("litecoop", 8, "by4Xr8zxdR9mJ7Voe2130AqnQMjBWZDKOwgLElaPk56N", "iSftHuUcIhsTCF", "vpGY"),
    ("a much longer salt for this example", 0, "BynRbxAM398YLOgjloD0G7wdaz2m5NEVpKqQ6rZ4XWJk",
     "scCfhUHIiStFuT", "1veP"),
]


def make_inputs(size: int, seed: int) -> tuple:
    """`size` (at least one) non-negative integers, mostly small, a few huge, under one of the setups."""
    rng = random.Random(seed)
    salt, min_length, alphabet, separators, guards = SETUPS[seed % len(SETUPS)]
    values = [rng.randrange(10 ** 30) if rng.random() < 0.05 else rng.randrange(1_000_000)
              for _ in range(max(1, size))]
    return (values, salt, min_length, alphabet, separators, guards)
