#!/usr/bin/env bash
# What a fresh Debian 12 machine lacks to build and test nixos-aws, installed from Debian's registry (as root):
# Nix (nix-bin, 2.8, for the build-and-push and instance-script tests), the AWS CLI (awscli, whose botocore models
# the sandbox validates requests against), ShellCheck (the shell-lint test) and e2fsprogs (mkfs.ext4, for the
# upload-ami tests' disk images). Installs only what is missing.
# Node.js 20 or newer must already be there (Debian 12's own is 18): from nodejs.org, NodeSource or setup-node.
set -euo pipefail

missing=()
# Debian's package, not any `aws` on PATH: the sandbox reads botocore's models where it installs them
# (/usr/lib/python3/dist-packages/awscli/botocore/data; SANDBOX_BOTOCORE_DATA points elsewhere).
[ -x /usr/bin/aws ] || missing+=(awscli)
command -v git >/dev/null 2>&1 || missing+=(git)
command -v nix >/dev/null 2>&1 || missing+=(nix-bin)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
# Debian keeps mkfs.ext4 in /sbin, outside a normal user's PATH.
command -v mkfs.ext4 >/dev/null 2>&1 || [ -x /sbin/mkfs.ext4 ] || missing+=(e2fsprogs)
if [ "${#missing[@]}" -eq 0 ]; then
  echo 'Nothing to install: awscli, nix-bin, shellcheck, e2fsprogs and git are present.'
elif [ "$(id -u)" -ne 0 ]; then
  echo "Missing: ${missing[*]}. Run as root: sudo $0" >&2
  exit 1
else
  echo "Installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Checked last: none of the above needs Node, and Debian's own nodejs (18) is too old to be the answer.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "Node.js 20 or newer is needed (found: $(node --version 2>/dev/null || echo none)); Debian 12's nodejs is 18:" \
    'install it from nodejs.org or NodeSource, then run npm ci.' >&2
  exit 1
fi
