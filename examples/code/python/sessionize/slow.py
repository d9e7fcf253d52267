"""Per-user session statistics from a stream of (user, timestamp, page) click events."""

SESSION_GAP_S = 30 * 60


def user_sessions(events: list[tuple[str, int, str]], user: str) -> list[list[tuple[int, str]]]:
    """The user's clicks, in time order (ties: input order), split where the gap exceeds SESSION_GAP_S."""
    clicks = [(ts, page) for who, ts, page in events if who == user]
    ordered = []
    for click in clicks:  # insertion sort by timestamp, stable
        position = len(ordered)
        while position > 0 and ordered[position - 1][0] > click[0]:
            position -= 1
        ordered.insert(position, click)
    sessions = []
    for click in ordered:
        if sessions and click[0] - sessions[-1][-1][0] <= SESSION_GAP_S:
            sessions[-1].append(click)
        else:
            sessions.append([click])
    return sessions


def session_stats(events: list[tuple[str, int, str]]) -> dict[str, dict]:
    """{user: {"sessions", "clicks", "longest_s", "pages" (distinct, sorted), "landing" (first page of each
    session)}} for every user, users in order of first appearance."""
    users = []
    for who, _, _ in events:
        if who not in users:
            users.append(who)
    stats = {}
    for user in users:
        sessions = user_sessions(events, user)
        pages = []
        for session in sessions:
            for _, page in session:
                if page not in pages:
                    pages.append(page)
        stats[user] = {
            "sessions": len(sessions),
            "clicks": sum(len(s) for s in sessions),
            "longest_s": max(s[-1][0] - s[0][0] for s in sessions),
            "pages": sorted(pages),
            "landing": [s[0][1] for s in sessions],
        }
    return stats
