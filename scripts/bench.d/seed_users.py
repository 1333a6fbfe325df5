#!/usr/bin/env python3
"""Seeds accounts straight into a Portcullis SQLite database, for scripts/bench (figure 4).

    seed_users.py DB TOTAL

Run with the server stopped, after it (or `portcullis migrate`) has created the schema and
after the account `bench` exists. Adds ten accounts `needle0`..`needle9` (once: the search
prefix `needle` matches exactly these at every scale), then filler accounts `u0000NNN`
(numbered on from the count) until the database holds TOTAL accounts, each with the role
`user`, as store/users.rs writes them: username, lower-cased keys, email, one password
hash (bench's, so no hashing here), disabled 0, created/updated now. One transaction and one INSERT ... SELECT over a
recursive CTE: a million accounts take seconds, not minutes.
"""
import sqlite3
import sys
import time

USER_ROLE = 1  # domain/roles.rs: Role::User.id()


def main() -> None:
    path, total = sys.argv[1], int(sys.argv[2])
    started = time.monotonic()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA busy_timeout = 5000")
    db.execute("BEGIN IMMEDIATE")
    row = db.execute("SELECT password_hash FROM users WHERE username_lower = 'bench'").fetchone()
    if row is None:
        sys.exit("seed_users: no account 'bench' to take the password hash from")
    password_hash = row[0]
    now = int(time.time() * 1000)
    before = db.execute("SELECT COALESCE(MAX(id), 0) FROM users").fetchone()[0]
    insert = (
        "INSERT INTO users (username, username_lower, email, email_lower,"
        " password_hash, disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)"
    )
    needles = db.execute("SELECT COUNT(*) FROM users WHERE username_lower LIKE 'needle_'")
    for i in range(10 if needles.fetchone()[0] == 0 else 0):
        name = f"needle{i}"
        db.execute(insert, (name, name, f"{name}@bench.example", f"{name}@bench.example",
                            password_hash, now, now))
    count = db.execute("SELECT COUNT(*) FROM users").fetchone()[0]
    if total > count:
        db.execute(
            """
            WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?)
            INSERT INTO users (username, username_lower, email, email_lower, password_hash,
                               disabled, created_at, updated_at)
            SELECT printf('u%07d', i), printf('u%07d', i),
                   printf('u%07d@bench.example', i), printf('u%07d@bench.example', i),
                   ?, 0, ?, ? FROM n
            """,
            (count + 1, total, password_hash, now, now),
        )
    db.execute(
        "INSERT INTO user_roles (user_id, role_id) SELECT id, ? FROM users WHERE id > ?",
        (USER_ROLE, before),
    )
    db.execute("COMMIT")
    # Leave the rows in the database file, not in a large write-ahead log.
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    count = db.execute("SELECT COUNT(*) FROM users").fetchone()[0]
    db.close()
    print(f"{count} {time.monotonic() - started:.1f}")


if __name__ == "__main__":
    main()
