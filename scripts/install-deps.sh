#!/usr/bin/env bash
# What a fresh Debian 12 machine lacks to build and test nixos-aws, installed from Debian's registry (as root):
# Nix (nix-bin, 2.8, for the build-and-push and instance-script tests), the AWS CLI (awscli, whose botocore models
# the sandbox validates requests against) and ShellCheck (the shell-lint test). Installs only what is missing.
set -euo pipefail

missing=()
[ -x /usr/bin/aws ] || missing+=(awscli)
command -v nix >/dev/null 2>&1 || missing+=(nix-bin)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
if [ "${#missing[@]}" -eq 0 ]; then
  echo 'Nothing to install: awscli, nix-bin and shellcheck are present.'
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing: ${missing[*]}. Run as root: sudo $0" >&2
  exit 1
fi
echo "Installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
