"""How many letter strings each digit message could be (A=1, B=2, ..., Z=26)."""


def ways(digits: str) -> int:
    """The number of decodings of `digits` (the empty message has one)."""
    if digits == "":
        return 1
    if digits[0] == "0":
        return 0
    total = ways(digits[1:])
    if len(digits) >= 2 and 10 <= int(digits[:2]) <= 26:
        total += ways(digits[2:])
    return total


def count_decodings(messages: list[str]) -> list[int]:
    """The number of decodings of every message; raises ValueError for anything but digits."""
    counts = []
    for message in messages:
        if not all(c in "0123456789" for c in message):
            raise ValueError(f"not a digit message: {message!r}")
        counts.append(ways(message))
    return counts
