#!/usr/bin/env bash
# NixOS-Deploy (nixos-aws): switch this instance to a NixOS system closure, check its health, roll back on failure.
# Every parameter reaches this script only as an environment variable SSM_<name> (interpolationType ENV_VAR):
# no value is ever part of this text, so no value can be read as shell code.
# Exit codes: 0 deployed; 1 failed before anything changed; 2 failed and rolled back to the previous generation;
# 3 failed and not rolled back (rollback off, or the rollback failed too); 194 makes the agent reboot the
# instance and run this document again, which then finishes the deploy.
set -uo pipefail
umask 022

# NixOS starts the agent with a minimal PATH; what is on it already (and first) wins.
export PATH="${PATH:+$PATH:}/run/wrappers/bin:/run/current-system/sw/bin:/nix/var/nix/profiles/default/bin"
readonly PROFILE=/nix/var/nix/profiles/system
readonly REBOOT_MARK=/var/lib/nixos-deploy/reboot-pending

log() { printf 'nixos-deploy: %s\n' "$*"; }
die() {
  local code=$1
  shift
  printf 'nixos-deploy: %s\n' "$*" >&2
  exit "$code"
}

# A missing tool would fail later as something else (no timeout: "could not fetch"): name it before anything runs.
for tool in nix nix-store nix-env timeout readlink cat rm mkdir sleep systemd-run systemctl; do
  command -v "$tool" >/dev/null || die 1 "$tool is not installed (or not on PATH: $PATH)."
done
# An older Nix lacks `nix store verify` and `path-info --json` as used below, and would fail there as if the
# system were unsigned: name the real cause.
nix_version=$(timeout 30 nix --version 2>/dev/null) || nix_version=
if [[ ! $nix_version =~ ([0-9]+)\.([0-9]+) ]] ||
  [ "${BASH_REMATCH[1]}" -lt 2 ] || { [ "${BASH_REMATCH[1]}" -eq 2 ] && [ "${BASH_REMATCH[2]}" -lt 8 ]; }; then
  printf -v nix_version '%q' "${nix_version:-nothing}"
  die 1 "This document needs Nix 2.8 or later (NixOS 22.05 or later); nix --version says: $nix_version"
fi

if [ -z "${SSM_storePath+set}" ]; then
  die 1 'SSM_storePath is not set: this document needs SSM Agent 3.3.2746.0 or later (parameters as environment variables).'
fi
store_path=$SSM_storePath
action=${SSM_action:-switch}
substituters=${SSM_substituters:-}
trusted_keys=${SSM_trustedPublicKeys:-}
units=${SSM_healthCheckUnits:-}
url=${SSM_healthCheckUrl:-}
health_timeout=${SSM_healthCheckTimeoutSeconds:-60}
rollback=${SSM_rollbackOnFailure:-true}
execution_timeout=${SSM_executionTimeout:-3600}

# SSM checked every value against its parameter's allowedPattern; this script checks them again with the same
# patterns (POSIX extended regular expressions read them alike), because the API's Java `$` also matches before
# a final newline, and because a value it cannot use must stop it before anything changes.
export LC_ALL=C
check() {
  local shown
  printf -v shown '%q' "$2"
  [[ $2 =~ $3 ]] || die 1 "Parameter $1 does not match its allowedPattern: $shown"
}
for value in "$store_path" "$action" "$substituters" "$trusted_keys" "$units" "$url" "$health_timeout" "$rollback" "$execution_timeout"; do
  case $value in *[![:print:]]*) die 1 'A parameter holds a character that is not printable.' ;; esac
done
check storePath "$store_path" '^/nix/store/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+._?=-]{1,211}$'
check substituters "$substituters" '^$|^(s3|https|http|file)://[A-Za-z0-9._~:/%+,@-]+([?](region|endpoint|scheme|profile|priority)=[A-Za-z0-9._~:/%+,@-]*(&(region|endpoint|scheme|profile|priority)=[A-Za-z0-9._~:/%+,@-]*)*)?( (s3|https|http|file)://[A-Za-z0-9._~:/%+,@-]+([?](region|endpoint|scheme|profile|priority)=[A-Za-z0-9._~:/%+,@-]*(&(region|endpoint|scheme|profile|priority)=[A-Za-z0-9._~:/%+,@-]*)*)?)*$'
check trustedPublicKeys "$trusted_keys" '^$|^[A-Za-z0-9._+@-]+:[A-Za-z0-9+/]{43}=( [A-Za-z0-9._+@-]+:[A-Za-z0-9+/]{43}=)*$'
check healthCheckUnits "$units" '^$|^[A-Za-z0-9:_.@-]{1,240}[.](service|socket|target|timer|mount|automount|path|swap|slice|scope|device)( [A-Za-z0-9:_.@-]{1,240}[.](service|socket|target|timer|mount|automount|path|swap|slice|scope|device))*$'
check healthCheckUrl "$url" '^$|^http://(localhost|127[.]0[.]0[.]1)(:[0-9]{1,5})?(/[A-Za-z0-9._~:/?#@!&+,;=%-]*)?$'
check healthCheckTimeoutSeconds "$health_timeout" '^([1-9][0-9]{0,2}|[1-2][0-9]{3}|3[0-5][0-9]{2}|3600)$'
check executionTimeout "$execution_timeout" '^([1-9][0-9]{0,4}|1[0-6][0-9]{4}|17[01][0-9]{3}|172[0-7][0-9]{2}|172800)$'
case $action in switch | boot | reboot | dry-activate) ;; *) die 1 "Unknown action: $action" ;; esac
case $rollback in true | false) ;; *) die 1 "rollbackOnFailure must be true or false, not $rollback" ;; esac
read -r -a unit_list <<<"$units"

nix_options=(--option require-sigs true --option connect-timeout 15 --option stalled-download-timeout 60)
if [ -n "$substituters" ]; then nix_options+=(--option extra-substituters "$substituters"); fi
if [ -n "$trusted_keys" ]; then nix_options+=(--option extra-trusted-public-keys "$trusted_keys"); fi

# The fetch gets what the execution timeout leaves after the health check and a minute for the switch and a rollback
# (at least half of it): a cache that never answers then ends the run with exit 1, named, before the agent's timeout.
fetch_seconds=$((execution_timeout - health_timeout - 60))
if [ "$fetch_seconds" -lt $((execution_timeout / 2)) ]; then fetch_seconds=$((execution_timeout / 2)); fi
if [ "$fetch_seconds" -lt 1 ]; then fetch_seconds=1; fi
caches="${substituters:+$substituters and }the instance's own substituters"

realise() {
  log "Fetching $store_path (signatures required)"
  timeout --kill-after=10 "$fetch_seconds" nix-store --realise "$store_path" "${nix_options[@]}" >/dev/null
  case $? in
  0) ;;
  124 | 137) die 1 "Fetching $store_path from $caches did not finish within $fetch_seconds s." ;;
  *) die 1 "Could not fetch $store_path with a valid signature." ;;
  esac
  # Nothing of the path has run yet, fetched or already in the store, and nothing has checked a path that was not
  # fetched (without this, a deploy could switch to any older system the instance holds). Nix takes a
  # content-addressed path as its own proof: it fetches one with no signature even with require-sigs, and
  # `nix store verify --sigs-needed 1` passes it. A NixOS system is input-addressed, so a `ca` is refused; then a
  # signature under a trusted key's name must be there, and Nix's own check must pass it.
  local path_info setting signatures='' signed_by='' key trusted=()
  path_info=$(timeout 120 nix --extra-experimental-features nix-command path-info --json "${nix_options[@]}" "$store_path") ||
    die 1 "Could not read the path info of $store_path."
  # A `"` inside a JSON string is escaped, so `"ca":` and `,"<name>:` are found only as a key and as a string's start.
  # Nix 2.19 and later write `"ca":null` for an input-addressed path.
  ! [[ $path_info =~ \"ca\":[[:space:]]*[^[:space:]n] ]] ||
    die 1 "$store_path is content-addressed (nix path-info shows a ca), which Nix takes with no signature: a NixOS system is input-addressed, so it must be signed by a trusted key."
  while IFS= read -r setting; do
    case $setting in 'trusted-public-keys = '*) read -r -a trusted <<<"${setting#* = }" ;; esac
  done < <(timeout 120 nix --extra-experimental-features nix-command show-config "${nix_options[@]}")
  if [[ $path_info == *'"signatures":['* ]]; then
    signatures=${path_info#*'"signatures":['}
    signatures=",${signatures%%]*}"
  fi
  for key in ${trusted[@]+"${trusted[@]}"}; do
    if [[ $signatures == *',"'"${key%%:*}:"* ]]; then signed_by=${key%%:*}; fi
  done
  [ -n "$signed_by" ] ||
    die 1 "$store_path has no valid signature by a trusted key (none under a trusted key's name): present in the store or fetched, a system must be signed."
  timeout 120 nix --extra-experimental-features nix-command store verify --no-contents --sigs-needed 1 "${nix_options[@]}" "$store_path" ||
    die 1 "$store_path has no valid signature by a trusted key: present in the store or fetched, a system must be signed."
  [ -x "$store_path/bin/switch-to-configuration" ] || die 1 "$store_path is not a NixOS system: it has no bin/switch-to-configuration."
}

# A transient unit, as nixos-rebuild does: a restart of the agent or the network during the switch cannot kill it.
# Its fixed name also keeps two deploys from switching one instance at once.
switch_to() {
  systemd-run --collect --wait --quiet --pipe --no-ask-password --service-type=exec \
    --unit=nixos-deploy-switch -E LOCALE_ARCHIVE -E NIXOS_INSTALL_BOOTLOADER \
    -- "$1/bin/switch-to-configuration" "$2"
}

set_profile() {
  nix-env --profile "$PROFILE" --set "$store_path" || die 1 "Could not set the system profile to $store_path."
}

# Ends the run after a failure once the profile points at the new system: back to the previous generation
# (activated with $1, `switch` or `boot`), or left as it is.
fail_deploy() {
  local mode=$1 reason=$2
  printf 'nixos-deploy: %s\n' "$reason" >&2
  if [ "$rollback" != true ]; then die 3 "Not rolled back (rollbackOnFailure is false): the system profile stays at $store_path."; fi
  log 'Rolling back to the previous generation'
  if ! nix-env --profile "$PROFILE" --rollback; then die 3 'The rollback failed: there is no previous generation.'; fi
  local previous
  previous=$(readlink -f "$PROFILE")
  switch_to "$PROFILE" "$mode" || die 3 "The rollback to $previous failed: switch-to-configuration $mode exited $?."
  die 2 "Rolled back to $previous."
}

# >>> shared/health.sh: health_check and http_ok, copied by npm run build; edit them there, not here
# Passes once every unit is active and the URL answers 2xx, each within the timeout.
health_check() {
  local deadline=$((SECONDS + health_timeout)) unit
  for unit in ${unit_list[@]+"${unit_list[@]}"}; do
    until systemctl is-active --quiet -- "$unit"; do
      if [ "$SECONDS" -ge "$deadline" ]; then
        log "Unit $unit is $(systemctl is-active -- "$unit") after ${health_timeout} s"
        return 1
      fi
      sleep 1
    done
    log "Unit $unit is active"
  done
  if [ -n "$url" ]; then
    until http_ok "$url"; do
      if [ "$SECONDS" -ge "$deadline" ]; then
        log "$url did not answer 2xx within ${health_timeout} s"
        return 1
      fi
      sleep 1
    done
    log "$url answers 2xx"
  fi
}

# Plain HTTP to the loopback interface through bash's own /dev/tcp: no curl needed on the instance.
http_ok() {
  local pattern='^http://(localhost|127[.]0[.]0[.]1)(:([0-9]{1,5}))?(/[^#]*)?' host port path status
  [[ $1 =~ $pattern ]] || return 1
  host=${BASH_REMATCH[1]}
  port=${BASH_REMATCH[3]:-80}
  path=${BASH_REMATCH[4]:-/}
  status=$(
    exec 2>/dev/null
    exec 3<>"/dev/tcp/$host/$port" || exit 1
    printf 'GET %s HTTP/1.0\r\nHost: %s:%s\r\nConnection: close\r\n\r\n' "$path" "$host" "$port" >&3
    IFS= read -r -t 5 line <&3 && printf '%s' "$line"
  )
  [[ $status =~ ^HTTP/1[.][01]\ 2[0-9][0-9] ]]
}
# <<< shared/health.sh

booted=$(readlink -f /run/booted-system 2>/dev/null || true)

case $action in
dry-activate)
  realise
  switch_to "$store_path" dry-activate || die 1 "switch-to-configuration dry-activate exited $?."
  log "Dry activation of $store_path done"
  exit 0
  ;;
boot)
  realise
  set_profile
  switch_to "$store_path" boot || fail_deploy boot "switch-to-configuration boot exited $?."
  log "$store_path is the default at the next boot"
  exit 0
  ;;
reboot)
  if [ -f "$REBOOT_MARK" ]; then
    # The run after the reboot this document asked for.
    marked=$(cat "$REBOOT_MARK")
    rm -f "$REBOOT_MARK"
    if [ "$marked" = "$store_path" ]; then
      [ "$booted" = "$store_path" ] || fail_deploy switch "The instance rebooted into ${booted:-an unknown system}, not $store_path."
      health_check || fail_deploy switch 'The health check failed after the reboot.'
      log "Rebooted into $store_path"
      exit 0
    fi
  fi
  if [ "$booted" = "$store_path" ]; then
    health_check || fail_deploy switch 'The health check failed.'
    log "Already running $store_path since boot: no reboot needed"
    exit 0
  fi
  realise
  set_profile
  switch_to "$store_path" boot || fail_deploy boot "switch-to-configuration boot exited $?."
  { mkdir -p "${REBOOT_MARK%/*}" && printf '%s\n' "$store_path" >"$REBOOT_MARK"; } || die 3 "Could not write $REBOOT_MARK."
  log "Rebooting into $store_path; this document runs again after the reboot"
  exit 194
  ;;
esac

realise
set_profile
switch_to "$store_path" switch
code=$?
case $code in
0) ;;
100) log 'switch-to-configuration asks for a reboot to finish the switch' ;;
4) fail_deploy switch 'switch-to-configuration switch exited 4: some units failed.' ;;
*) fail_deploy switch "switch-to-configuration switch exited $code." ;;
esac
health_check || fail_deploy switch 'The health check failed.'
log "Switched to $store_path"
exit 0
