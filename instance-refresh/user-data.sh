#!/usr/bin/env bash
# nixos-aws instance-refresh: the user data of a NixOS launch template.
#
# On first boot it reads the NixOS system to run from this instance's tags through instance metadata (IMDSv2),
# fetches that closure from the binary cache with signature checking on, makes it the system profile and boots
# into it. NixOS runs user data on every boot: once the instance runs that system, the script does nothing.
#
# Tags (the launch template needs MetadataOptions.InstanceMetadataTags = enabled):
#   NixStorePath       the system's store path, /nix/store/<hash>-<name> (the action's `store-path-tag`)
#   Substituters       optional: binary caches, space separated (s3://, https://, http://, file://)
#   TrustedPublicKeys  optional: keys that sign them, space separated, name:base64
# Both optional tags add to the substituters and keys the image's own Nix configuration already trusts.
#
# When anything fails, the reason goes to the log (the console output and the journal) and the instance powers
# off: a broken deploy must never leave a healthy-looking instance on the old image, or the instance refresh would
# count it as replaced and AutoRollback would never start. Nothing read from a tag is ever run as shell.
#
# Settings: edit the defaults below, or set the variables in the environment.
set -euo pipefail
set -o errtrace
export LC_ALL=C

: "${NIXOS_AWS_STORE_PATH_TAG:=NixStorePath}"
: "${NIXOS_AWS_SUBSTITUTERS_TAG:=Substituters}"
: "${NIXOS_AWS_KEYS_TAG:=TrustedPublicKeys}"
# How to boot the new system: kexec (fast, skips the firmware; falls back to reboot without kexec) or reboot.
: "${NIXOS_AWS_BOOT:=kexec}"
# On failure: poweroff, or stay (to look at a broken instance; it then counts as healthy).
: "${NIXOS_AWS_ON_FAILURE:=poweroff}"
: "${NIXOS_AWS_IMDS:=http://169.254.169.254}"
# Instance metadata can be unreachable for a moment early in boot.
: "${NIXOS_AWS_IMDS_WAIT_SECONDS:=120}"
: "${NIXOS_AWS_SYSTEM_PROFILE:=/nix/var/nix/profiles/system}"
: "${NIXOS_AWS_CURRENT_SYSTEM:=/run/current-system}"

# The same pattern as the action's store-path input (shared/store-path.ts).
STORE_PATH_PATTERN='^/nix/store/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+._?=-]{1,211}$'
SUBSTITUTER_PATTERN='^(s3|https|http|file)://[A-Za-z0-9._~:/?&=%+,@-]+$'
# `?trusted=1` on a substituter makes Nix take its paths without any valid signature.
UNTRUSTED_SUBSTITUTER_PATTERN='[?&]trusted='
PUBLIC_KEY_PATTERN='^[A-Za-z0-9._+-]+:[A-Za-z0-9+/]{43}=$'

log() { printf 'nixos-aws: %s\n' "$*" >&2; }

# A value read from a tag, quoted so that control characters cannot forge log lines.
shown() { printf '%q' "$1"; }

fail() {
  trap - ERR
  log "FAILED: $*"
  if [ "$NIXOS_AWS_ON_FAILURE" = stay ]; then
    log 'NIXOS_AWS_ON_FAILURE=stay: leaving the instance running on its old system'
  else
    log 'powering off, so that this instance never counts as healthy'
    systemctl poweroff || poweroff --force
  fi
  exit 1
}
trap 'fail "command failed with status $? at line $LINENO: $BASH_COMMAND"' ERR

imds_token() {
  local deadline=$((SECONDS + NIXOS_AWS_IMDS_WAIT_SECONDS))
  until TOKEN=$(curl -fsS --max-time 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' \
    "$NIXOS_AWS_IMDS/latest/api/token"); do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 2
  done
}

# Sets TAG_VALUE to the instance's tag $1; status 1 when the instance has no such tag.
read_tag() {
  local body status
  body=$(mktemp)
  status=$(curl -sS --max-time 5 -o "$body" -w '%{http_code}' -H "X-aws-ec2-metadata-token: $TOKEN" \
    "$NIXOS_AWS_IMDS/latest/meta-data/tags/instance/$1") || status=000
  TAG_VALUE=$(cat "$body")
  rm -f "$body"
  case $status in
    200)
      [[ ! $TAG_VALUE =~ [[:cntrl:]] ]] || fail "the $1 tag has control characters: $(shown "$TAG_VALUE")"
      return 0
      ;;
    404) return 1 ;;
    *) fail "instance metadata answered HTTP $status for the tag $1" ;;
  esac
}

imds_token || fail "no instance metadata token from $NIXOS_AWS_IMDS within ${NIXOS_AWS_IMDS_WAIT_SECONDS} s"

read_tag "$NIXOS_AWS_STORE_PATH_TAG" ||
  fail "the instance has no $NIXOS_AWS_STORE_PATH_TAG tag (or the launch template does not enable InstanceMetadataTags)"
store_path=$TAG_VALUE
[[ $store_path =~ $STORE_PATH_PATTERN ]] ||
  fail "the $NIXOS_AWS_STORE_PATH_TAG tag is not a store path: $(shown "$store_path")"

substituters=()
if read_tag "$NIXOS_AWS_SUBSTITUTERS_TAG"; then
  read -r -a substituters <<<"$TAG_VALUE"
fi
for substituter in "${substituters[@]}"; do
  [[ $substituter =~ $SUBSTITUTER_PATTERN && ! $substituter =~ $UNTRUSTED_SUBSTITUTER_PATTERN ]] ||
    fail "the $NIXOS_AWS_SUBSTITUTERS_TAG tag has a substituter this script does not use: $(shown "$substituter")"
done

keys=()
if read_tag "$NIXOS_AWS_KEYS_TAG"; then
  read -r -a keys <<<"$TAG_VALUE"
fi
for key in "${keys[@]}"; do
  [[ $key =~ $PUBLIC_KEY_PATTERN ]] || fail "the $NIXOS_AWS_KEYS_TAG tag has a value that is not a public key: $(shown "$key")"
done

current=$(readlink -f "$NIXOS_AWS_CURRENT_SYSTEM" || true)
if [ "$current" = "$store_path" ]; then
  log "running $store_path already: nothing to do"
  exit 0
fi
log "switching from ${current:-an unknown system} to $store_path"

# Signatures are checked whatever the image's nix.conf says; the tags only add caches and keys.
nix_options=(--option require-sigs true)
if [ "${#substituters[@]}" -gt 0 ]; then nix_options+=(--option extra-substituters "${substituters[*]}"); fi
if [ "${#keys[@]}" -gt 0 ]; then nix_options+=(--option extra-trusted-public-keys "${keys[*]}"); fi
nix-store "${nix_options[@]}" --realise "$store_path" >/dev/null ||
  fail "could not fetch $store_path with a valid signature from the substituters"
[ -x "$store_path/bin/switch-to-configuration" ] || fail "$store_path is not a NixOS system (no bin/switch-to-configuration)"

nix-env --profile "$NIXOS_AWS_SYSTEM_PROFILE" --set "$store_path"
"$store_path/bin/switch-to-configuration" boot

if [ "$NIXOS_AWS_BOOT" = kexec ] && ! command -v kexec >/dev/null; then
  log 'kexec is not installed: rebooting instead'
  NIXOS_AWS_BOOT=reboot
fi
case $NIXOS_AWS_BOOT in
  kexec)
    log "booting $store_path with kexec"
    kexec --load "$store_path/kernel" --initrd="$store_path/initrd" \
      --command-line="init=$store_path/init $(<"$store_path/kernel-params")"
    systemctl kexec
    ;;
  reboot)
    log "rebooting into $store_path"
    systemctl reboot
    ;;
  *) fail "NIXOS_AWS_BOOT must be kexec or reboot, not $(shown "$NIXOS_AWS_BOOT")" ;;
esac
