#!/usr/bin/env bash
# nixos-aws instance-refresh: the user data of a NixOS launch template.
#
# It reads the NixOS system to run from this instance's tags through instance metadata (IMDSv2), fetches that closure
# from the binary cache, checks that it is signed by a trusted key (fetched or already in the store), makes it the
# system profile and boots into it. NixOS runs user data on every boot: the script applies a tag value once. When the
# tag still names the system it applied at an earlier boot, it does nothing, so that a system switched to in place
# later (ssm-deploy, or by hand) is not undone at the next reboot; a changed tag value is applied again.
#
# Tags (the launch template needs MetadataOptions.InstanceMetadataTags = enabled):
#   NixStorePath       the system's store path, /nix/store/<hash>-<name> (the action's `store-path-tag`)
#   Substituters       optional: binary caches, space separated (s3://, https://, http://, file://), with no store
#                      settings but region, endpoint, scheme, profile and priority
#   TrustedPublicKeys  optional: keys that sign them, space separated, name:base64
# Both optional tags add to the substituters and keys the image's own Nix configuration already trusts.
#
# When anything fails, the reason goes to the log (the console output and the journal) and the instance powers
# off: a broken deploy must never leave a healthy-looking instance on the old image, or the instance refresh would
# count it as replaced and AutoRollback would never start. Nothing read from a tag is ever run as shell.
#
# Needs (checked first): bash, curl, nix (2.8 or later: `nix store verify`), nix-store, nix-env, coreutils
# (timeout, readlink, mkdir, mv, sleep) and systemctl. NixOS runs user data with a short PATH that older images
# leave curl out of, so the system's own tool directories are searched after it.
#
# Settings: edit the defaults below, or set the variables in the environment.
set -euo pipefail
set -o errtrace
export LC_ALL=C
export PATH="${PATH:+$PATH:}/run/wrappers/bin:/run/current-system/sw/bin:/nix/var/nix/profiles/default/bin"

: "${NIXOS_AWS_STORE_PATH_TAG:=NixStorePath}"
: "${NIXOS_AWS_SUBSTITUTERS_TAG:=Substituters}"
: "${NIXOS_AWS_KEYS_TAG:=TrustedPublicKeys}"
# How to boot the new system: kexec (fast, skips the firmware; falls back to reboot without kexec) or reboot.
: "${NIXOS_AWS_BOOT:=kexec}"
# On failure: poweroff, or stay (to look at a broken instance; it then counts as healthy).
: "${NIXOS_AWS_ON_FAILURE:=poweroff}"
: "${NIXOS_AWS_IMDS:=http://169.254.169.254}"
# Instance metadata can refuse, fail or not answer for a while early in boot: it is retried for this long.
: "${NIXOS_AWS_IMDS_WAIT_SECONDS:=120}"
# The whole fetch of the closure, however the caches behave (a cache that accepts and never answers included).
: "${NIXOS_AWS_FETCH_TIMEOUT_SECONDS:=900}"
: "${NIXOS_AWS_SYSTEM_PROFILE:=/nix/var/nix/profiles/system}"
: "${NIXOS_AWS_CURRENT_SYSTEM:=/run/current-system}"
# Which tag value was applied, kept across boots.
: "${NIXOS_AWS_STATE_DIR:=/var/lib/nixos-aws}"
# The last ways to power off: the kernel's sysrq `o`, then halt.
: "${NIXOS_AWS_SYSRQ_TRIGGER:=/proc/sysrq-trigger}"
: "${NIXOS_AWS_SYSRQ_WAIT_SECONDS:=30}"

# The same pattern as the action's store-path input (shared/store-path.ts).
STORE_PATH_PATTERN='^/nix/store/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+._?=-]{1,211}$'
# The same rule as every store URI input (shared/store-uri.ts, SUBSTITUTER): a cache's location and only the settings
# on its allow-list, so that `trusted=1` (no signature needed), `require-sigs`, `secret-key` and any setting this
# script does not know are refused.
SUBSTITUTER_PATTERN='^(s3|https|http|file)://[A-Za-z0-9._~:/%+,@-]+([?](region|endpoint|scheme|profile|priority)=[A-Za-z0-9._~:/%+,@-]*(&(region|endpoint|scheme|profile|priority)=[A-Za-z0-9._~:/%+,@-]*)*)?$'
# The same rule as every public key input (shared/store-uri.ts, PUBLIC_KEY): names of inert characters only.
PUBLIC_KEY_PATTERN='^[A-Za-z0-9._+@-]+:[A-Za-z0-9+/]{43}=$'
REQUIRED_TOOLS=(curl nix nix-store nix-env timeout readlink mkdir mv sleep systemctl)

log() { printf 'nixos-aws: %s\n' "$*" >&2; }

# A value read from a tag, quoted so that control characters cannot forge log lines.
shown() { printf '%q' "$1"; }

# Each way is tried only when the one before returned: a clean shutdown, then ways that no unit or inhibitor can
# refuse. Returns only when every one failed.
power_off() {
  if systemctl poweroff; then return 0; fi
  log 'systemctl poweroff failed: forcing the power off'
  systemctl poweroff --force --force
  log 'the forced power off failed: asking the kernel (sysrq o)'
  if printf o >"$NIXOS_AWS_SYSRQ_TRIGGER"; then sleep "$NIXOS_AWS_SYSRQ_WAIT_SECONDS"; fi
  log 'still running: halting'
  halt --force --force
  log 'EVERY WAY TO POWER OFF FAILED: stop this instance by hand'
  return 1
}

fail() {
  trap - ERR
  set +e
  log "FAILED: $*"
  if [ "$NIXOS_AWS_ON_FAILURE" = stay ]; then
    log 'NIXOS_AWS_ON_FAILURE=stay: leaving the instance running on its old system'
  else
    log 'powering off, so that this instance never counts as healthy'
    power_off
  fi
  exit 1
}
trap 'fail "command failed with status $? at line $LINENO: $BASH_COMMAND"' ERR

# A missing tool would otherwise look like something else (curl missing: instance metadata never answers).
for tool in "${REQUIRED_TOOLS[@]}"; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (or not on PATH: $PATH); this script needs ${REQUIRED_TOOLS[*]}"
done
# An older Nix lacks `nix store verify` and `path-info --json` as used below, and would fail there as if the
# system were unsigned: name the real cause instead.
nix_version=$(timeout 30 nix --version 2>/dev/null) || nix_version=
if [[ ! $nix_version =~ ([0-9]+)\.([0-9]+) ]] ||
  [ "${BASH_REMATCH[1]}" -lt 2 ] || { [ "${BASH_REMATCH[1]}" -eq 2 ] && [ "${BASH_REMATCH[2]}" -lt 8 ]; }; then
  fail "this script needs Nix 2.8 or later (NixOS 22.05 or later); nix --version says: $(shown "${nix_version:-nothing}")"
fi

IMDS_DEADLINE=$((SECONDS + NIXOS_AWS_IMDS_WAIT_SECONDS))
TOKEN=
imds_token() {
  until TOKEN=$(curl -fsS --max-time 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' \
    "$NIXOS_AWS_IMDS/latest/api/token"); do
    [ "$SECONDS" -lt "$IMDS_DEADLINE" ] || fail "no instance metadata token from $NIXOS_AWS_IMDS within ${NIXOS_AWS_IMDS_WAIT_SECONDS} s"
    sleep 1
  done
}

# Sets TAG_VALUE to the instance's tag $1; status 1 when the instance has no such tag (only a 404 says so). Any other
# answer (401 even with a fresh token, 5xx, none at all) is retried with a new token until the window ends.
read_tag() {
  local answer status
  while :; do
    [ -n "$TOKEN" ] || imds_token
    if answer=$(curl -sS --max-time 5 -w '\n%{http_code}' -H "X-aws-ec2-metadata-token: $TOKEN" \
      "$NIXOS_AWS_IMDS/latest/meta-data/tags/instance/$1"); then
      status=${answer##*$'\n'}
      TAG_VALUE=${answer%$'\n'*}
    else
      status=000
    fi
    case $status in
      200)
        [[ ! $TAG_VALUE =~ [[:cntrl:]] ]] || fail "the $1 tag has control characters: $(shown "$TAG_VALUE")"
        return 0
        ;;
      404) return 1 ;;
    esac
    TOKEN=
    [ "$SECONDS" -lt "$IMDS_DEADLINE" ] ||
      fail "instance metadata answered $([ "$status" = 000 ] && echo nothing || echo "HTTP $status") for the tag $1 until the end of its ${NIXOS_AWS_IMDS_WAIT_SECONDS} s window"
    log "instance metadata answered $([ "$status" = 000 ] && echo nothing || echo "HTTP $status") for the tag $1: retrying"
    sleep 1
  done
}

# The value of the state $1 recorded at an earlier boot, or nothing.
state() {
  local file="$NIXOS_AWS_STATE_DIR/$1"
  if [ -f "$file" ]; then printf '%s' "$(<"$file")"; fi
}

record() {
  mkdir -p "$NIXOS_AWS_STATE_DIR"
  printf '%s\n' "$2" >"$NIXOS_AWS_STATE_DIR/$1.new"
  mv -f "$NIXOS_AWS_STATE_DIR/$1.new" "$NIXOS_AWS_STATE_DIR/$1"
}

read_tag "$NIXOS_AWS_STORE_PATH_TAG" ||
  fail "the instance has no $NIXOS_AWS_STORE_PATH_TAG tag (or the launch template does not enable InstanceMetadataTags)"
store_path=$TAG_VALUE
[[ $store_path =~ $STORE_PATH_PATTERN ]] ||
  fail "the $NIXOS_AWS_STORE_PATH_TAG tag is not a store path: $(shown "$store_path")"

current=$(readlink -f "$NIXOS_AWS_CURRENT_SYSTEM" || true)
if [ "$(state applied-store-path)" = "$store_path" ]; then
  log "the $NIXOS_AWS_STORE_PATH_TAG tag still names $store_path, applied at an earlier boot: nothing to do" \
    "(running ${current:-an unknown system}; a system switched to in place since then stays)"
  exit 0
fi
if [ "$current" = "$store_path" ]; then
  record applied-store-path "$store_path"
  log "running $store_path already: nothing to do"
  exit 0
fi
if [ "$(state booting-store-path)" = "$store_path" ]; then
  fail "this instance was booted into $store_path but came up on ${current:-an unknown system}"
fi

substituters=()
if read_tag "$NIXOS_AWS_SUBSTITUTERS_TAG"; then
  read -r -a substituters <<<"$TAG_VALUE"
fi
for substituter in "${substituters[@]}"; do
  [[ $substituter =~ $SUBSTITUTER_PATTERN ]] ||
    fail "the $NIXOS_AWS_SUBSTITUTERS_TAG tag has a substituter this script does not use (a cache URI with no settings but region, endpoint, scheme, profile, priority): $(shown "$substituter")"
done

keys=()
if read_tag "$NIXOS_AWS_KEYS_TAG"; then
  read -r -a keys <<<"$TAG_VALUE"
fi
for key in "${keys[@]}"; do
  [[ $key =~ $PUBLIC_KEY_PATTERN ]] || fail "the $NIXOS_AWS_KEYS_TAG tag has a value that is not a public key: $(shown "$key")"
done

log "switching from ${current:-an unknown system} to $store_path"

# Signatures are checked whatever the image's nix.conf says; the tags only add caches and keys.
nix_options=(--option require-sigs true --option connect-timeout 15 --option stalled-download-timeout 60)
if [ "${#substituters[@]}" -gt 0 ]; then nix_options+=(--option extra-substituters "${substituters[*]}"); fi
if [ "${#keys[@]}" -gt 0 ]; then nix_options+=(--option extra-trusted-public-keys "${keys[*]}"); fi
caches="${substituters[*]:+${substituters[*]} and }the image's own substituters"

if timeout --kill-after=10 "$NIXOS_AWS_FETCH_TIMEOUT_SECONDS" nix-store "${nix_options[@]}" --realise "$store_path" >/dev/null; then
  :
else
  status=$?
  if [ "$status" = 124 ] || [ "$status" = 137 ]; then
    fail "fetching $store_path from $caches did not finish within ${NIXOS_AWS_FETCH_TIMEOUT_SECONDS} s"
  fi
  fail "could not fetch $store_path with a valid signature from $caches"
fi
# Nothing of the path has run yet, fetched or already in the store (the image's own systems, say), and nothing has
# checked a path that was not fetched. Nix takes a content-addressed path as its own proof: it fetches one with no
# signature even with require-sigs, and `nix store verify --sigs-needed 1` passes it. A NixOS system is
# input-addressed, so a `ca` is refused; then a signature under a trusted key's name must be there, and Nix's own
# check must pass it.
path_info=$(timeout 120 nix --extra-experimental-features nix-command path-info --json "${nix_options[@]}" "$store_path")
# A `"` inside a JSON string is escaped, so `"ca":` and `,"<name>:` are found only as a key and as a string's start.
# Nix 2.19 and later write `"ca":null` for an input-addressed path.
! [[ $path_info =~ \"ca\":[[:space:]]*[^[:space:]n] ]] ||
  fail "$store_path is content-addressed (nix path-info shows a ca), which Nix takes with no signature: a NixOS system is input-addressed, so it must be signed by a trusted key"
trusted=()
while IFS= read -r setting; do
  case $setting in 'trusted-public-keys = '*) read -r -a trusted <<<"${setting#* = }" ;; esac
done < <(timeout 120 nix --extra-experimental-features nix-command show-config "${nix_options[@]}")
signatures=
if [[ $path_info == *'"signatures":['* ]]; then
  signatures=${path_info#*'"signatures":['}
  signatures=",${signatures%%]*}"
fi
signed_by=
for key in ${trusted[@]+"${trusted[@]}"}; do
  if [[ $signatures == *',"'"${key%%:*}:"* ]]; then signed_by=${key%%:*}; fi
done
[ -n "$signed_by" ] ||
  fail "$store_path has no valid signature by a trusted key (none under a trusted key's name): present in the store or fetched, a system must be signed"
verify_status=0
timeout 120 nix --extra-experimental-features nix-command store verify --no-contents --sigs-needed 1 \
  "${nix_options[@]}" "$store_path" || verify_status=$?
[ "$verify_status" -ne 124 ] || fail "nix store verify of $store_path did not finish within 120 s"
[ "$verify_status" -eq 0 ] ||
  fail "$store_path has no valid signature by a trusted key: present in the store or fetched, a system must be signed"
[ -x "$store_path/bin/switch-to-configuration" ] || fail "$store_path is not a NixOS system (no bin/switch-to-configuration)"

timeout 300 nix-env --profile "$NIXOS_AWS_SYSTEM_PROFILE" --set "$store_path"
# Installs the boot loader entry; bounded like every step, so that a hang powers off rather than leaving the instance up.
timeout 600 "$store_path/bin/switch-to-configuration" boot
# The next run finds this instance on that system and records the tag value as applied; should the boot come up on
# another system instead, the next run fails rather than booting it again and again.
record booting-store-path "$store_path"

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
