import random

REGIONS = ["north", "south", "east", "west", "central", "overseas"]
ADJECTIVES = ["Deluxe", "Compact", "Industrial", "Portable", "Classic", "Smart", "Heavy-duty"]
NOUNS = ["Widget", "Gearbox", "Sensor", "Bracket", "Controller", "Valve", "Adapter", "Pump"]


def make_inputs(size: int, seed: int) -> tuple:
    rng = random.Random(seed)
    sales = []
    for _ in range(size):
        product = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {rng.randrange(100, 999)}"
        sales.append((rng.choice(REGIONS), product, rng.randrange(1, 500),
                      round(rng.uniform(0.5, 2000.0), 2)))
    return (sales,)
