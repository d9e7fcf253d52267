from slow import dedupe_records


def rec(i, email, country):
    return {"id": i, "email": email, "country": country}


def test_empty():
    assert dedupe_records([]) == []


def test_no_duplicates():
    records = [rec(1, "a@x.com", "us"), rec(2, "b@x.com", "us"), rec(3, "a@x.com", "de")]
    assert dedupe_records(records) == records


def test_keeps_first_occurrence():
    records = [rec(1, "a@x.com", "us"), rec(2, "b@x.com", "fr"), rec(3, "a@x.com", "us")]
    assert [r["id"] for r in dedupe_records(records)] == [1, 2]


def test_normalizes_email_and_country():
    records = [rec(1, " A@X.com ", "us"), rec(2, "a@x.COM", "US"), rec(3, "a@x.com", "Us")]
    assert [r["id"] for r in dedupe_records(records)] == [1]


def test_all_same():
    records = [rec(i, "z@z.z", "jp") for i in range(5)]
    assert [r["id"] for r in dedupe_records(records)] == [0]
