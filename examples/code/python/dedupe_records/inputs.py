import random

COUNTRIES = ["us", "de", "gb"]


def make_inputs(size: int, seed: int) -> tuple:
    rng = random.Random(seed)
    n_people = max(1, size * 4)
    records = []
    for i in range(size):
        person = rng.randrange(n_people)
        email = f"User{person}@example.com"
        if rng.random() < 0.3:
            email = "  " + email.upper() + " "
        records.append({
            "id": i,
            "email": email,
            "country": COUNTRIES[person % len(COUNTRIES)],
        })
    return (records,)
