#!/bin/sh
# Runs training/'s Python tests (CPU, Debian's python3 with python3-torch 1.13 or any PyTorch 2.x).
cd "$(dirname "$0")/.." || exit 1
exec /usr/bin/python3 -m pytest -q training/tests "$@"
