#!/usr/bin/env python3
"""Prints the README's walk-throughs as a bash fragment for scripts/test-readme-order.

The walk-throughs are the ```sh blocks of the sections a new user follows one after the
other, on one server and one database: "Email", "OpenID Connect", "Walk-through with curl"
and "Accounts, administration and operations" ("The first admin" runs earlier in
scripts/test-readme-order, in its own place in a new user's order). The other blocks are
left out on purpose: "Run it" is what the harness itself runs, "Test it" and "Web app" are
the test commands, and the MySQL section names a database server that does not exist.

Each command (continuation lines joined, comment lines dropped) becomes one call of
`readme_run`, given its text as the README has it; the harness fills in the placeholders a
reader fills in by hand (`<token from the log>`, `<client_id>`, `<client_secret>`, `<the
printed password>`), runs it in the same shell (so `B=…`, `ACCESS=…` and `cd` carry on to
the next command) and checks it: a command must exit 0, and each HTTP request it makes must
answer what the line's comment says (`# 403 …`) or else 2xx. The two commands that keep a
server running (`serve --dev-mail`, the sample app's `node server.mjs`) go to
`readme_server` and `readme_background` instead. The default addresses are replaced with
the harness's free ports: `localhost:8080` with $PORT_MAIN, `localhost:3000` with $RP_PORT.
"""
import re
import sys

SECTIONS = ["Email", "OpenID Connect", "Walk-through with curl", "Accounts, administration and operations"]


def blocks(readme):
    section = None
    inside = False
    current = []
    for line in readme.splitlines():
        if not inside and line.startswith("## "):
            section = line[3:].strip()
        elif not inside and line.strip() == "```sh":
            inside, current = True, []
        elif inside and line.strip() == "```":
            inside = False
            yield section, current
        elif inside:
            current.append(line)


def commands(lines):
    command = ""
    for line in lines:
        if not command and (not line.strip() or line.lstrip().startswith("#")):
            continue
        command += line.rstrip("\\") if line.endswith("\\") else line
        if line.endswith("\\"):
            command += " "
            continue
        yield command
        command = ""


def quoted(text):
    return "'" + text.replace("'", "'\\''") + "'"


def main():
    readme = open(sys.argv[1], encoding="utf-8").read()
    found = {section for section, _ in blocks(readme)}
    missing = [s for s in SECTIONS if s not in found]
    if missing:
        sys.exit(f"README.md has no sh block under {missing}: update scripts/lib/readme-walkthroughs.py")
    for section, lines in blocks(readme):
        if section not in SECTIONS:
            continue
        print(f"readme_section {quoted(section)}")
        for command in commands(lines):
            command = command.replace("localhost:8080", "localhost:$PORT_MAIN")
            command = command.replace("localhost:3000", "localhost:$RP_PORT")
            expected = re.search(r"#\s*(\d{3})\b", command)
            code = expected.group(1) if expected else "2xx"
            if re.search(r"(^|\s)serve(\s|$)", command) and "cargo run" in command:
                print(f"readme_server {quoted(command)}")
            elif re.search(r"\bnode server\.mjs\b", command):
                print(f"readme_background {quoted(command)}")
            else:
                print(f"readme_run {code} {quoted(command)}")


if __name__ == "__main__":
    main()
