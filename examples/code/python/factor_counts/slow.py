"""Prime factor and divisor counts of many integers."""


def is_prime(n: int) -> bool:
    if n < 2:
        return False
    for d in range(2, n):
        if d * d > n:
            break
        if n % d == 0:
            return False
    return True


def prime_factors(n: int) -> list[int]:
    """The prime factors of n >= 1 in increasing order, with multiplicity."""
    factors = []
    candidate = 2
    while n > 1:
        if is_prime(candidate) and n % candidate == 0:
            factors.append(candidate)
            n //= candidate
        else:
            candidate += 1
    return factors


def factor_counts(numbers: list[int]) -> list[tuple[int, int]]:
    """(number of prime factors with multiplicity, number of divisors) of each number (>= 1)."""
    result = []
    for n in numbers:
        if n < 1:
            raise ValueError(f"not a positive integer: {n}")
        factors = prime_factors(n)
        divisors = 1
        for p in sorted(set(factors)):
            divisors *= factors.count(p) + 1
        result.append((len(factors), divisors))
    return result
