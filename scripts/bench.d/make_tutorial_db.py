#!/usr/bin/env python3
"""A database shaped like the Node.js tutorial's (Sequelize's users, roles and user_roles),
in SQLite, with N users, for timing `portcullis import tutorial` (docs/IMPORT.md).

    make_tutorial_db.py PATH N

Every user has the same bcrypt cost-8 hash, of the password "correct horse battery
staple" (so each can sign in after the import), the role `user`, and every fiftieth one
`moderator` instead.
"""
import sqlite3
import sys

# bcrypt, cost 8, "$2a$" as bcryptjs writes it; the password is in the docstring.
HASH = "$2a$08$XIp39LXAJRiMLhrKmYdEh.Jk1xvH3/ZAjDk9tibe8Bj6I2fffcOum"


def main() -> None:
    path, n = sys.argv[1], int(sys.argv[2])
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE users (id INTEGER PRIMARY KEY, username VARCHAR(255), email VARCHAR(255),
            password VARCHAR(255), createdAt DATETIME, updatedAt DATETIME);
        CREATE TABLE roles (id INTEGER PRIMARY KEY, name VARCHAR(255), createdAt DATETIME,
            updatedAt DATETIME);
        CREATE TABLE user_roles (createdAt DATETIME, updatedAt DATETIME, roleId INTEGER NOT NULL,
            userId INTEGER NOT NULL, PRIMARY KEY (roleId, userId));
        INSERT INTO roles VALUES (1, 'user', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
            (2, 'moderator', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
            (3, 'admin', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);
        """
    )
    now = "CURRENT_TIMESTAMP"
    db.executemany(
        f"INSERT INTO users VALUES (?, ?, ?, ?, {now}, {now})",
        ((i, f"user{i}", f"user{i}@example.com", HASH) for i in range(1, n + 1)),
    )
    db.executemany(
        f"INSERT INTO user_roles VALUES ({now}, {now}, ?, ?)",
        ((2 if i % 50 == 0 else 1, i) for i in range(1, n + 1)),
    )
    db.commit()
    db.close()


if __name__ == "__main__":
    main()
