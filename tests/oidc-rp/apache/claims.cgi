#!/bin/sh
# The "application" behind mod_auth_openidc (tests/oidc-rp/apache/rp): shows what Apache
# passed to it, one NAME=value a line: the authenticated user and the OIDC_* variables
# (the ID token's and userinfo's claims, the raw ID token, the access token).
printf 'Content-Type: text/plain; charset=utf-8\r\n\r\n'
printf 'AUTH_TYPE=%s\n' "$AUTH_TYPE"
printf 'REMOTE_USER=%s\n' "$REMOTE_USER"
env | grep '^OIDC_' | sort
