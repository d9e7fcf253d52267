import random

PAGES = ["/", "/search", "/cart", "/checkout", "/help", "/account"] + [f"/item/{i}" for i in range(40)]


def make_inputs(size: int, seed: int) -> tuple:
    """`size` click events of about size/10 users, roughly in time order with some late arrivals."""
    rng = random.Random(seed)
    users = [f"u{rng.randrange(10 ** 6):06d}" for _ in range(max(1, size // 10))]
    clock = 1_700_000_000
    events = []
    for _ in range(size):
        clock += rng.choice([5, 30, 120, 600, 2400])
        late = rng.randint(0, 900) if rng.random() < 0.1 else 0
        events.append((rng.choice(users), clock - late, rng.choice(PAGES)))
    return (events,)
